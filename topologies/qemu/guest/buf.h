/* Growable byte buffers and JSON output: what every part of the guest program prints with. */
#ifndef SEAMLESS_GUEST_BUF_H
#define SEAMLESS_GUEST_BUF_H

#include <stddef.h>

struct buf {
  char *data;
  size_t len;
  size_t cap;
};

void buf_put(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *text);
void buf_printf(struct buf *b, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal, quotes included; bytes that are not printable ASCII become \u00XX. */
void buf_json_string(struct buf *b, const char *text, size_t len);
/* Drop the first n bytes (what a write consumed). */
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

/* Seconds of a clock as a double with microsecond precision. */
double clock_seconds(int clock_id);

#endif
