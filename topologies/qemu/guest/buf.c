#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void buf_reserve(struct buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra) cap *= 2;
  char *data = realloc(b->data, cap);
  if (!data) {
    fputs("seamless-guest: out of memory\n", stderr);
    exit(70);
  }
  b->data = data;
  b->cap = cap;
}

void buf_put(struct buf *b, const void *data, size_t len) {
  buf_reserve(b, len);
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

void buf_puts(struct buf *b, const char *text) { buf_put(b, text, strlen(text)); }

void buf_printf(struct buf *b, const char *format, ...) {
  va_list args;
  va_start(args, format);
  int needed = vsnprintf(NULL, 0, format, args);
  va_end(args);
  if (needed < 0) return;
  buf_reserve(b, (size_t)needed + 1);
  va_start(args, format);
  vsnprintf(b->data + b->len, (size_t)needed + 1, format, args);
  va_end(args);
  b->len += (size_t)needed;
}

void buf_json_string(struct buf *b, const char *text, size_t len) {
  buf_reserve(b, len + 2);
  buf_put(b, "\"", 1);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '"' || c == '\\') {
      char escaped[2] = {'\\', (char)c};
      buf_put(b, escaped, 2);
    } else if (c == '\n') {
      buf_put(b, "\\n", 2);
    } else if (c == '\t') {
      buf_put(b, "\\t", 2);
    } else if (c < 0x20 || c >= 0x7f) {
      buf_printf(b, "\\u%04x", c);
    } else {
      buf_put(b, &text[i], 1);
    }
  }
  buf_put(b, "\"", 1);
}

void buf_consume(struct buf *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

void buf_free(struct buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

double clock_seconds(int clock_id) {
  struct timespec ts;
  clock_gettime(clock_id, &ts);
  return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6;
}
