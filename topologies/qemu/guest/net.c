#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int listen_on(int type, int port, int backlog) {
  int fd = socket(AF_INET, type, 0);
  int one = 1;
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(fd, (struct sockaddr *)&address, sizeof address) < 0 ||
      (type == SOCK_STREAM && listen(fd, backlog) < 0)) {
    fprintf(stderr, "seamless-guest: cannot listen on port %d: %s\n", port, strerror(errno));
    exit(1);
  }
  return fd;
}

int parse_address(const char *host, int port, struct sockaddr_in *address) {
  memset(address, 0, sizeof *address);
  address->sin_family = AF_INET;
  address->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, host, &address->sin_addr) == 1 ? 0 : -1;
}

static const char *python_error_class(int error) {
  switch (error) {
    case ECONNRESET: return "ConnectionResetError";
    case ECONNREFUSED: return "ConnectionRefusedError";
    case ECONNABORTED: return "ConnectionAbortedError";
    case EPIPE: return "BrokenPipeError";
    case ETIMEDOUT: return "TimeoutError";
    default: return "OSError";
  }
}

void python_error(struct buf *out, int error) {
  buf_printf(out, "%s: [Errno %d] %s", python_error_class(error), error, strerror(error));
}

void tcp_counters_json(struct buf *out) {
  long retrans = 0, out_rsts = 0, estab_resets = 0;
  FILE *snmp = fopen("/proc/net/snmp", "r");
  char names[1024], values[1024];
  while (snmp && fgets(names, sizeof names, snmp)) {
    if (strncmp(names, "Tcp:", 4) != 0 || !fgets(values, sizeof values, snmp)) continue;
    char *name_save, *value_save;
    char *name = strtok_r(names, " \n", &name_save);
    char *value = strtok_r(values, " \n", &value_save);
    for (; name && value; name = strtok_r(NULL, " \n", &name_save), value = strtok_r(NULL, " \n", &value_save)) {
      if (strcmp(name, "RetransSegs") == 0) retrans = atol(value);
      if (strcmp(name, "OutRsts") == 0) out_rsts = atol(value);
      if (strcmp(name, "EstabResets") == 0) estab_resets = atol(value);
    }
    break;
  }
  if (snmp) fclose(snmp);
  buf_printf(out, "{\"retransSegs\": %ld, \"outRsts\": %ld, \"estabResets\": %ld}", retrans, out_rsts, estab_resets);
}

int int_option(const char *name, const char *value, int min, int max) {
  char *end = NULL;
  long parsed = value ? strtol(value, &end, 10) : 0;
  if (!value || *end != '\0' || parsed < min || parsed > max) {
    fprintf(stderr, "seamless-guest: %s needs an integer between %d and %d\n", name, min, max);
    exit(2);
  }
  return (int)parsed;
}

void write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    len -= (size_t)n;
  }
}
