/* `udp serve`: the receiving end of topologies/case-study/udp_stream.py, for a guest without Python.
 *
 * Same datagrams (a big-endian sequence number and the sender's send time, epoch seconds as a
 * big-endian double, then padding), same count and same result: "listening", then on SIGTERM
 * "done" with received, highest, duplicates, reordered, missingCount and missing ([number, send
 * time of the datagram before it]). The send times are the sender's (the host's clock), so nothing
 * here depends on the guest's clock. udp_stream.py writes the result to --out and prints a short
 * "done"; a guest cannot write the host's files, so without --out the whole result is the "done" line.
 *
 * A datagram numbered beyond MAX_DATAGRAMS is not counted: the count's memory stays bounded (about
 * 9 bytes a number) whatever a datagram claims, in a guest of 64 MB. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "net.h"

#define HEADER_SIZE 16
#define MAX_DATAGRAMS (4u << 20) /* 70 min at 1,000 a second */
#define MAX_LISTED 20000

static volatile sig_atomic_t stop_requested;

static void request_stop(int signal_number) {
  (void)signal_number;
  stop_requested = 1;
}

struct count {
  unsigned char *seen;
  double *sent_at;
  size_t capacity;
  long long received, duplicates, reordered, highest;
};

static uint64_t be64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

static double be_double(const unsigned char *p) {
  uint64_t bits = be64(p);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

static void grow(struct count *c, size_t needed) {
  size_t capacity = c->capacity ? c->capacity : 4096;
  while (capacity < needed) capacity *= 2;
  if (capacity > MAX_DATAGRAMS) capacity = MAX_DATAGRAMS;
  c->seen = realloc(c->seen, capacity);
  c->sent_at = realloc(c->sent_at, capacity * sizeof *c->sent_at);
  if (!c->seen || !c->sent_at) {
    fputs("seamless-guest: out of memory\n", stderr);
    exit(70);
  }
  memset(c->seen + c->capacity, 0, capacity - c->capacity);
  c->capacity = capacity;
}

static void take(struct count *c, const unsigned char *data, ssize_t len) {
  if (len < HEADER_SIZE) return;
  uint64_t seq = be64(data);
  if (seq >= MAX_DATAGRAMS) return;
  if (seq >= c->capacity) grow(c, (size_t)seq + 1);
  if (c->seen[seq]) {
    c->duplicates++;
    return;
  }
  c->seen[seq] = 1;
  c->sent_at[seq] = be_double(data + 8);
  c->received++;
  if ((long long)seq < c->highest) c->reordered++;
  if ((long long)seq > c->highest) c->highest = (long long)seq;
}

static void result_json(struct buf *out, const struct count *c) {
  long long missing = 0;
  for (long long q = 0; q <= c->highest; q++) missing += !c->seen[q];
  buf_printf(out, "{\"event\": \"done\", \"received\": %lld, \"highest\": %lld, \"duplicates\": %lld, \"reordered\": %lld, \"missingCount\": %lld, \"missing\": [",
             c->received, c->highest, c->duplicates, c->reordered, missing);
  long long listed = 0;
  double last = -1;
  for (long long q = 0; q <= c->highest; q++) {
    if (c->seen[q]) {
      last = c->sent_at[q];
      continue;
    }
    if (listed == MAX_LISTED) continue;
    if (last < 0) buf_printf(out, "%s[%lld, null]", listed ? ", " : "", q);
    else buf_printf(out, "%s[%lld, %.6f]", listed ? ", " : "", q, last);
    listed++;
  }
  buf_puts(out, "]}\n");
}

static int serve(int port, const char *out_path) {
  int s = listen_on(SOCK_DGRAM, port, 0);
  /* 4 MiB, as udp_stream.py's counter: FORCE, as root, past the guest's rmem_max (212,992 bytes by
   * Linux's default), which would otherwise cap it silently; without the privilege, what it allows. */
  int size = 4 << 20;
  if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sigaction stop = {.sa_handler = request_stop}; /* no SA_RESTART: a wait ends at once */
  sigaction(SIGTERM, &stop, NULL);
  printf("{\"event\": \"listening\", \"port\": %d}\n", port);
  fflush(stdout);
  struct count c = {.highest = -1};
  static unsigned char datagram[65536];
  while (!stop_requested) {
    struct pollfd fd = {.fd = s, .events = POLLIN};
    int ready = poll(&fd, 1, 200);
    if (ready <= 0) continue;
    ssize_t n = recv(s, datagram, sizeof datagram, MSG_DONTWAIT);
    if (n < 0) continue;
    take(&c, datagram, n);
  }
  close(s);
  struct buf full = {0};
  result_json(&full, &c);
  if (out_path) {
    FILE *file = fopen(out_path, "w");
    if (file) {
      fwrite(full.data, 1, full.len, file);
      fclose(file);
    }
    printf("{\"event\": \"done\", \"received\": %lld}\n", c.received);
    fflush(stdout);
  } else {
    write_all(STDOUT_FILENO, full.data, full.len);
  }
  buf_free(&full);
  return 0;
}

int udp_main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "serve") != 0) {
    fputs("usage: seamless-guest udp serve [--port P] [--out FILE]\n", stderr);
    return 2;
  }
  int port = 7001;
  const char *out_path = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--port") == 0) port = int_option("--port", argv[++i], 1, 65535);
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
    else {
      fprintf(stderr, "seamless-guest udp: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  return serve(port, out_path);
}
