/* seamless-guest: the one program of the lab's QEMU guest (static, next to busybox in its initramfs).
 *   seamless-guest agent [PORT-NAME]     the host's control channel (agent.c)
 *   seamless-guest stream serve ...      TCP stream receiver compatible with stream.py (stream.c)
 *   seamless-guest probe MODE ...        TCP/UDP echo servers and clients compatible with probe.py (probe.c)
 *   seamless-guest udp serve ...         numbered-datagram counter compatible with udp_stream.py serve (udp.c) */
#include <stdio.h>
#include <string.h>

int agent_main(int argc, char **argv);
int stream_main(int argc, char **argv);
int probe_main(int argc, char **argv);
int udp_main(int argc, char **argv);

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "agent") == 0) return agent_main(argc - 1, argv + 1);
  if (strcmp(what, "stream") == 0) return stream_main(argc - 1, argv + 1);
  if (strcmp(what, "probe") == 0) return probe_main(argc - 1, argv + 1);
  if (strcmp(what, "udp") == 0) return udp_main(argc - 1, argv + 1);
  fputs("usage: seamless-guest agent|stream|probe|udp ...\n", stderr);
  return 2;
}
