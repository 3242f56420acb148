/* `stream serve`: the receiving end of topologies/case-study/stream.py, for a guest without Python.
 *
 * Same wire pattern (byte i of the stream is i % 251), same in-order check, same JSON lines
 * ("listening", "accepted", then "done" with bytes, inOrder, firstBadOffset, error, start, end,
 * counters and a timeline of [time, cumulative bytes] at 1 ms resolution). One difference, stated in
 * the result as "clock": "monotonic": times are the guest's CLOCK_MONOTONIC, because a guest's wall
 * clock is not the host's and stands still while QEMU is paused; the host maps them onto its own
 * clock (topologies/qemu/guest-clock.ts), knowing when each pause began and ended. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "net.h"

#define PRIME 251
#define CHUNK 65536

static volatile sig_atomic_t stop_requested;

static void request_stop(int signal_number) {
  (void)signal_number;
  stop_requested = 1;
}

struct sample {
  double t;
  long long bytes;
};

struct receiver {
  long long received;
  int in_order;
  long long first_bad;
  struct buf error;
  struct sample *timeline;
  size_t samples, capacity;
  long long last_ms;
};

static void record(struct receiver *r, double t) {
  long long ms = (long long)(t * 1000);
  if (ms == r->last_ms) return;
  r->last_ms = ms;
  if (r->samples == r->capacity) {
    r->capacity = r->capacity ? r->capacity * 2 : 4096;
    r->timeline = realloc(r->timeline, r->capacity * sizeof *r->timeline);
    if (!r->timeline) {
      fputs("seamless-guest: out of memory\n", stderr);
      exit(70);
    }
  }
  r->timeline[r->samples++] = (struct sample){t, r->received};
}

static void check_pattern(struct receiver *r, const unsigned char *pattern, const unsigned char *chunk, size_t len) {
  const unsigned char *expected = pattern + r->received % PRIME;
  if (r->in_order && memcmp(chunk, expected, len) != 0) {
    size_t i = 0;
    while (i < len && chunk[i] == expected[i]) i++;
    r->in_order = 0;
    r->first_bad = r->received + (long long)i; /* the byte, not the recv() chunk it came in */
  }
}

static void receive(int conn, struct receiver *r) {
  static unsigned char pattern[PRIME * 64 + CHUNK];
  static unsigned char chunk[CHUNK];
  for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (unsigned char)(i % PRIME);
  while (!stop_requested) {
    struct pollfd fd = {.fd = conn, .events = POLLIN};
    int ready = poll(&fd, 1, 500);
    if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
    ssize_t n = recv(conn, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      python_error(&r->error, errno);
      break;
    }
    if (n == 0) break;
    check_pattern(r, pattern, chunk, (size_t)n);
    r->received += n;
    record(r, clock_seconds(CLOCK_MONOTONIC));
  }
}

static void result_json(struct buf *out, const struct receiver *r, double start, int with_timeline) {
  buf_printf(out, "{\"event\": \"done\", \"role\": \"receiver\", \"bytes\": %lld, \"inOrder\": %s, \"firstBadOffset\": ",
             r->received, r->in_order ? "true" : "false");
  if (r->in_order) buf_puts(out, "null");
  else buf_printf(out, "%lld", r->first_bad);
  buf_puts(out, ", \"error\": ");
  if (r->error.len) buf_json_string(out, r->error.data, r->error.len);
  else buf_puts(out, "null");
  buf_printf(out, ", \"start\": %.6f, \"end\": %.6f, \"clock\": \"monotonic\", \"counters\": ", start,
             clock_seconds(CLOCK_MONOTONIC));
  tcp_counters_json(out);
  if (with_timeline) {
    buf_puts(out, ", \"timeline\": [");
    for (size_t i = 0; i < r->samples; i++) {
      buf_printf(out, "%s[%.4f, %lld]", i ? ", " : "", r->timeline[i].t, r->timeline[i].bytes);
    }
    buf_puts(out, "]");
  }
  buf_puts(out, "}\n");
}

static int serve(int port, const char *out_path) {
  int listener = listen_on(SOCK_STREAM, port, 1);
  printf("{\"event\": \"listening\", \"port\": %d}\n", port);
  fflush(stdout);
  struct sockaddr_in peer;
  socklen_t peer_len = sizeof peer;
  int conn = accept(listener, (struct sockaddr *)&peer, &peer_len);
  if (conn < 0) {
    perror("seamless-guest: accept");
    return 1;
  }
  /* Like stream.py: SIGTERM ends the receive loop only once a connection is there. */
  struct sigaction stop = {.sa_handler = request_stop};
  sigaction(SIGTERM, &stop, NULL);
  double start = clock_seconds(CLOCK_MONOTONIC);
  char peer_ip[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &peer.sin_addr, peer_ip, sizeof peer_ip);
  printf("{\"event\": \"accepted\", \"peer\": \"%s\", \"t\": %.6f, \"clock\": \"monotonic\"}\n", peer_ip, start);
  fflush(stdout);

  struct receiver r = {.in_order = 1, .last_ms = -1};
  receive(conn, &r);
  close(conn);
  close(listener);

  struct buf out = {0};
  if (out_path) {
    struct buf full = {0};
    result_json(&full, &r, start, 1);
    FILE *file = fopen(out_path, "w");
    if (file) {
      fwrite(full.data, 1, full.len, file);
      fclose(file);
    }
    buf_free(&full);
  }
  result_json(&out, &r, start, out_path == NULL);
  write_all(STDOUT_FILENO, out.data, out.len);
  return 0;
}

int stream_main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "serve") != 0) {
    fputs("usage: seamless-guest stream serve [--port P] [--out FILE]\n", stderr);
    return 2;
  }
  int port = 5001;
  const char *out_path = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--port") == 0) port = int_option("--port", argv[++i], 1, 65535);
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
    else {
      fprintf(stderr, "seamless-guest stream: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  return serve(port, out_path);
}
