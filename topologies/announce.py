"""Announce a host after a live migration, the way QEMU's announce_self does.

Runs inside the migrated host's network namespace and sends, on a raw AF_PACKET socket:
  rarp  RARP "reverse request" (ethertype 0x8035, op 3, sha = tha = the MAC, spa = tpa = 0.0.0.0),
        broadcast: what QEMU sends for a guest without the guest-announce feature;
  garp  gratuitous ARP request (op 1, spa = tpa = the IP, tha = 0): what the guest sends itself.
Rounds follow QEMU's timer: the first at once, then after initial, initial + step, ... ms
(capped at max): with the defaults 0, 50, 200, 450, 800 ms.

With --wait the socket is opened first, `{"ready": true}` is printed, and the rounds start when a
line arrives on stdin: the caller can start us before the pause and trigger us right at resume.
Every frame sent is reported as a JSON line {"round", "kind", "t"} (t in epoch milliseconds).
"""

import argparse
import fcntl
import json
import socket
import struct
import sys
import time

BROADCAST = b'\xff' * 6
ZERO_MAC = b'\x00' * 6
ETH_P_ARP = 0x0806
ETH_P_RARP = 0x8035
MIN_FRAME = 60
SIOCGIFFLAGS = 0x8913
IFF_RUNNING = 0x40
IFREQ = struct.Struct('16sH22x')
RUNNING_TIMEOUT_S = 0.2


def mac_bytes(mac):
    return bytes(int(part, 16) for part in mac.split(':'))


def arp_frame(ethertype, op, sha, spa, tha, tpa):
    """An Ethernet/IPv4 ARP-family frame from the host, broadcast, padded to the minimum size."""
    header = BROADCAST + sha + struct.pack('!H', ethertype)
    body = struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa
    frame = header + body
    return frame + b'\x00' * (MIN_FRAME - len(frame))


def rarp_frame(mac):
    return arp_frame(ETH_P_RARP, 3, mac, b'\x00' * 4, mac, b'\x00' * 4)


def garp_frame(mac, ip):
    return arp_frame(ETH_P_ARP, 1, mac, ip, ZERO_MAC, ip)


def frames_for(mode, mac, ip):
    kinds = {'rarp': ['rarp'], 'garp': ['garp'], 'both': ['rarp', 'garp']}[mode]
    built = {'rarp': lambda: rarp_frame(mac), 'garp': lambda: garp_frame(mac, ip)}
    return [(kind, built[kind]()) for kind in kinds]


def round_offsets(rounds, initial, step, maximum):
    """Offsets (ms) of each round from the first, following QEMU's qemu_announce_timer_step."""
    offsets, at = [], 0.0
    for sent in range(rounds):
        offsets.append(at)
        at += min(initial + sent * step, maximum)
    return offsets


def report(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def running(iface):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        _, flags = IFREQ.unpack(fcntl.ioctl(sock, SIOCGIFFLAGS, IFREQ.pack(iface.encode(), 0)))
    return bool(flags & IFF_RUNNING)


def wait_running(iface):
    """Wait (briefly) for the interface to be operational again.

    When an emulated pause took the carrier away, Linux re-enables the transmit queue
    asynchronously after the carrier returns; a frame sent before that is silently dropped.
    A paused guest has no such window, so the first round waits it out."""
    deadline = time.monotonic() + RUNNING_TIMEOUT_S
    while not running(iface) and time.monotonic() < deadline:
        time.sleep(0.0002)


def announce(sock, frames, offsets):
    start = time.monotonic()
    for number, offset in enumerate(offsets):
        delay = start + offset / 1000 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for kind, frame in frames:
            sock.send(frame)
            report({'round': number, 'kind': kind, 't': time.time() * 1000})


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iface', required=True)
    parser.add_argument('--mac', required=True)
    parser.add_argument('--ip', default='0.0.0.0', help='needed for garp')
    parser.add_argument('--mode', choices=['rarp', 'garp', 'both'], default='rarp')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--initial-ms', type=float, default=50)
    parser.add_argument('--step-ms', type=float, default=100)
    parser.add_argument('--max-ms', type=float, default=550)
    parser.add_argument('--wait', action='store_true', help='start the rounds on a line from stdin')
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    frames = frames_for(args.mode, mac_bytes(args.mac), socket.inet_aton(args.ip))
    offsets = round_offsets(args.rounds, args.initial_ms, args.step_ms, args.max_ms)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((args.iface, 0))
        if args.wait:
            report({'ready': True})
            if not sys.stdin.readline():
                return 1
        wait_running(args.iface)
        announce(sock, frames, offsets)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
