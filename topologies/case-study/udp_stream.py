#!/usr/bin/python3
"""A paced stream of numbered UDP datagrams: counts what the network lost, for measuring migrations.

  udp_stream.py serve --port P --out FILE     (on the VM) count datagrams until SIGTERM, then write
                                              one JSON object to FILE
  udp_stream.py send --host H --port P --pps N --stop-file F   (on a correspondent) send until F exists

Each datagram carries its sequence number and send time. UDP is never retransmitted, so a datagram
the receiver never saw was lost at the network (or by the receiver's socket buffer, which its size
rules out at these rates). The receiver names each missing number with the send time of the last
datagram before it, so losses can be put on the migration they belong to.
"""
import argparse, json, os, signal, socket, struct, time

HEADER = struct.Struct('!Qd')  # sequence number, send time (epoch s)
MAX_LISTED = 20000
# A number beyond this is not counted: a datagram that claims 2**62 must not make the count allocate
# for it (70 min at 1,000 a second; the guest's counter, topologies/qemu/guest/udp.c, has the same bound).
MAX_DATAGRAMS = 4 << 20


def serve(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # 4 MiB as the guest's counter (topologies/qemu/guest/udp.c): FORCE, as root, past net.core.rmem_max
    # (212,992 bytes by Linux's default), which would otherwise cap it silently.
    try:
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 4 << 20)  # 33: Linux's number
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(('0.0.0.0', args.port))
    s.settimeout(0.2)
    print(json.dumps({'event': 'listening', 'port': args.port}), flush=True)
    stop = {'now': False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    seen = bytearray()
    times = {}  # the send time of each datagram received, by number
    received = duplicates = reordered = 0
    highest = -1
    while not stop['now']:
        try:
            data = s.recv(2048)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if len(data) < HEADER.size:
            continue
        seq, sent_at = HEADER.unpack_from(data)
        if seq >= MAX_DATAGRAMS:
            continue
        if seq >= len(seen):
            seen.extend(b'\0' * (seq + 1 - len(seen) + 4096))
        if seen[seq]:
            duplicates += 1
            continue
        seen[seq] = 1
        times[seq] = sent_at
        received += 1
        if seq < highest:
            reordered += 1
        highest = max(highest, seq)
    missing, last_t = [], None
    for seq in range(highest + 1):
        if seen[seq]:
            last_t = times[seq]
        elif len(missing) < MAX_LISTED:
            missing.append([seq, last_t])
    result = {'event': 'done', 'received': received, 'highest': highest, 'duplicates': duplicates,
              'reordered': reordered, 'missingCount': sum(1 for q in range(highest + 1) if not seen[q]),
              'missing': missing}
    with open(args.out, 'w') as f:
        json.dump(result, f)
    print(json.dumps({'event': 'done', 'received': received}), flush=True)


def send(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((args.host, args.port))
    pad = b'\0' * max(0, args.size - HEADER.size)
    print(json.dumps({'event': 'connected'}), flush=True)
    start = time.time()
    seq = 0
    while not os.path.exists(args.stop_file):
        due = int((time.time() - start) * args.pps) + 1
        while seq < due:
            try:
                s.send(HEADER.pack(seq, time.time()) + pad)
            except OSError:
                pass  # no route for a moment (ICMP errors come back as send errors): counted as lost
            seq += 1
        time.sleep(0.001)
    print(json.dumps({'event': 'done', 'role': 'sender', 'sent': seq, 'start': start, 'end': time.time()}), flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='mode', required=True)
    sv = sub.add_parser('serve'); sv.add_argument('--port', type=int, default=7001); sv.add_argument('--out', required=True)
    sd = sub.add_parser('send'); sd.add_argument('--host', required=True); sd.add_argument('--port', type=int, default=7001)
    sd.add_argument('--pps', type=float, default=1000); sd.add_argument('--size', type=int, default=200)
    sd.add_argument('--stop-file', required=True)
    args = p.parse_args()
    serve(args) if args.mode == 'serve' else send(args)


if __name__ == '__main__':
    main()
