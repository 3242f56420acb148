/* `probe`: the reachability probes of topologies/case-study/probe.py, for a guest without Python.
 *
 *   probe tcp-server --port P [--count N]   echo one read per connection, N connections then exit
 *   probe udp-server --port P [--count N]   echo datagrams
 *   probe tcp --host H --port P [--timeout S]   connect, send a line, expect it echoed
 *   probe udp --host H --port P [--timeout S]   send a datagram, expect the echo (3 tries)
 * Same JSON lines and exit codes as probe.py: servers print {"event": "listening"} and one
 * {"event": "served", "peer": ...} per peer; clients print {ok, rttMs, peer, error} and exit 0 when ok. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "net.h"

struct probe_options {
  const char *mode;
  const char *host;
  int port;
  int count;
  double timeout_s;
};

static void say_served(const struct sockaddr_in *peer) {
  char ip[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof ip);
  printf("{\"event\": \"served\", \"peer\": \"%s\"}\n", ip);
  fflush(stdout);
}

static void set_timeout(int fd, double seconds) {
  struct timeval tv = {.tv_sec = (time_t)seconds, .tv_usec = (suseconds_t)((seconds - (time_t)seconds) * 1e6)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int tcp_server(const struct probe_options *o) {
  int listener = listen_on(SOCK_STREAM, o->port, 16);
  puts("{\"event\": \"listening\"}");
  fflush(stdout);
  for (int served = 0; served < o->count; served++) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int conn = accept(listener, (struct sockaddr *)&peer, &len);
    if (conn < 0) continue;
    set_timeout(conn, 5);
    char data[4096];
    ssize_t n = recv(conn, data, sizeof data, 0);
    if (n > 0 && send(conn, data, (size_t)n, MSG_NOSIGNAL) == n) say_served(&peer);
    close(conn);
  }
  return 0;
}

static int udp_server(const struct probe_options *o) {
  int sock = listen_on(SOCK_DGRAM, o->port, 0);
  puts("{\"event\": \"listening\"}");
  fflush(stdout);
  for (int served = 0; served < o->count; served++) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    char data[4096];
    ssize_t n = recvfrom(sock, data, sizeof data, 0, (struct sockaddr *)&peer, &len);
    if (n < 0) continue;
    sendto(sock, data, (size_t)n, 0, (struct sockaddr *)&peer, len);
    say_served(&peer);
  }
  return 0;
}

/* connect() with a timeout, as socket.create_connection does. 0 or an errno. */
static int connect_within(int fd, const struct sockaddr_in *to, double timeout_s) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int error = 0;
  if (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0) {
    if (errno != EINPROGRESS) return errno;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, (int)(timeout_s * 1000)) <= 0) return ETIMEDOUT;
    socklen_t len = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
  }
  fcntl(fd, F_SETFL, flags);
  return error;
}

static void print_result(int ok, double t0, const char *peer, const struct buf *error) {
  struct buf out = {0};
  if (ok) {
    buf_printf(&out, "{\"ok\": true, \"rttMs\": %.2f, \"peer\": \"%s\", \"error\": null}\n",
               (clock_seconds(CLOCK_MONOTONIC) - t0) * 1000, peer);
  } else {
    buf_puts(&out, "{\"ok\": false, \"error\": ");
    buf_json_string(&out, error->data, error->len);
    buf_puts(&out, "}\n");
  }
  write_all(STDOUT_FILENO, out.data, out.len);
  buf_free(&out);
}

static int tcp_client(const struct probe_options *o, const struct sockaddr_in *to) {
  double t0 = clock_seconds(CLOCK_MONOTONIC);
  struct buf error = {0};
  char msg[64], got[64];
  int len = snprintf(msg, sizeof msg, "seamless-probe %f\n", clock_seconds(CLOCK_REALTIME));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int failure = connect_within(fd, to, o->timeout_s);
  int received = 0;
  if (!failure) {
    set_timeout(fd, o->timeout_s);
    if (send(fd, msg, (size_t)len, MSG_NOSIGNAL) != len) failure = errno ? errno : EPIPE;
  }
  while (!failure && received < len) {
    ssize_t n = recv(fd, got + received, sizeof got - (size_t)received, 0);
    if (n < 0) failure = (errno == EAGAIN || errno == EWOULDBLOCK) ? ETIMEDOUT : errno;
    if (n <= 0) break;
    received += (int)n;
  }
  close(fd);
  int ok = !failure && received == len && memcmp(msg, got, (size_t)len) == 0;
  if (failure == ETIMEDOUT) buf_puts(&error, "TimeoutError: timed out");
  else if (failure) python_error(&error, failure);
  else if (!ok) buf_puts(&error, "echo mismatch");
  print_result(ok, t0, o->host, &error);
  buf_free(&error);
  return ok ? 0 : 1;
}

static int udp_client(const struct probe_options *o, const struct sockaddr_in *to) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  set_timeout(fd, o->timeout_s / 3);
  char msg[64], got[4096];
  int len = snprintf(msg, sizeof msg, "seamless-udp %f", clock_seconds(CLOCK_REALTIME));
  struct buf error = {0};
  buf_puts(&error, "no echo");
  for (int attempt = 0; attempt < 3; attempt++) {
    double t0 = clock_seconds(CLOCK_MONOTONIC);
    sendto(fd, msg, (size_t)len, 0, (const struct sockaddr *)to, sizeof *to);
    ssize_t n = recv(fd, got, sizeof got, 0);
    if (n == len && memcmp(msg, got, (size_t)len) == 0) {
      print_result(1, t0, o->host, &error);
      return 0;
    }
  }
  print_result(0, 0, o->host, &error);
  return 1;
}

int probe_main(int argc, char **argv) {
  struct probe_options o = {.mode = argc > 1 ? argv[1] : "", .port = 6001, .count = 1000, .timeout_s = 3};
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) o.host = argv[++i];
    else if (strcmp(argv[i], "--port") == 0) o.port = int_option("--port", argv[++i], 1, 65535);
    else if (strcmp(argv[i], "--count") == 0) o.count = int_option("--count", argv[++i], 1, 1 << 30);
    else if (strcmp(argv[i], "--timeout") == 0) o.timeout_s = int_option("--timeout", argv[++i], 1, 3600);
    else {
      fprintf(stderr, "seamless-guest probe: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (strcmp(o.mode, "tcp-server") == 0) return tcp_server(&o);
  if (strcmp(o.mode, "udp-server") == 0) return udp_server(&o);
  struct sockaddr_in to;
  if ((strcmp(o.mode, "tcp") != 0 && strcmp(o.mode, "udp") != 0) || !o.host || parse_address(o.host, o.port, &to) != 0) {
    fputs("usage: seamless-guest probe tcp-server|udp-server|tcp|udp [--host IPv4] [--port P] [--count N] [--timeout S]\n", stderr);
    return 2;
  }
  return strcmp(o.mode, "tcp") == 0 ? tcp_client(&o, &to) : udp_client(&o, &to);
}
