/* Socket helpers shared by the stream receiver and the probes. */
#ifndef SEAMLESS_GUEST_NET_H
#define SEAMLESS_GUEST_NET_H

#include <netinet/in.h>

#include "buf.h"

/* A listening socket on 0.0.0.0:port (SOCK_STREAM or SOCK_DGRAM); exits with a message on failure. */
int listen_on(int type, int port, int backlog);
/* "10.0.1.20:6001" -> sockaddr; 0 on success. */
int parse_address(const char *host, int port, struct sockaddr_in *address);
/* Python's wording for an OSError ("ConnectionResetError: [Errno 104] Connection reset by peer"),
   so that results read the same as those of stream.py and probe.py. */
void python_error(struct buf *out, int error);
/* /proc/net/snmp's RetransSegs, OutRsts, EstabResets as a JSON object. */
void tcp_counters_json(struct buf *out);
/* An integer option value, or exit 2 with a message naming the option. */
int int_option(const char *name, const char *value, int min, int max);
/* Write all of a buffer to a file descriptor (stdout), retrying short writes. */
void write_all(int fd, const char *data, size_t len);

#endif
