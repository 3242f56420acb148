"""A paced TCP stream whose receiver checks that every byte arrives, in order, and measures gaps.

    tcp_stream.py serve --port 5001          # prints {"listening": port}, then progress, then a summary
    tcp_stream.py send --to 10.0.1.10:5001 --seconds 3 --rate 1000000

The sender writes the byte pattern i % 251 (a prime, so that a lost or repeated block of any
power-of-two size shows) at a steady rate, then closes. The receiver prints
{"t": epoch ms, "bytes": total} every --report-ms while bytes arrive, and at the end
{"done": true, "bytes": N, "inOrder": bool, "maxGapMs": longest time without data,
 "maxGapAt": when that gap ended}. The sender prints {"sent": N} or {"error": "..."}.
Standard library only: it runs inside Mininet hosts with Debian's /usr/bin/python3.
"""

import argparse
import json
import socket
import sys
import time

MODULUS = 251
CHUNK = 1000
RECV_SIZE = 65536
CYCLE = bytes(range(MODULUS)) * (RECV_SIZE // MODULUS + 2)


def pattern(offset, length):
    """Bytes offset .. offset+length-1 of the stream (length <= RECV_SIZE)."""
    start = offset % MODULUS
    return CYCLE[start:start + length]


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def now_ms():
    return time.time() * 1000


def serve(args):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(('0.0.0.0', args.port))
        listener.listen(1)
        emit({'listening': listener.getsockname()[1]})
        conn, peer = listener.accept()
        with conn:
            emit({'accepted': '%s:%d' % peer})
            return receive(conn, args.report_ms)


def receive(conn, report_ms):
    total, in_order = 0, True
    first = last = last_report = None
    max_gap, max_gap_at = 0.0, None
    while True:
        try:
            data = conn.recv(RECV_SIZE)
        except ConnectionError as error:
            emit({'done': False, 'bytes': total, 'error': str(error)})
            return 1
        at = now_ms()
        if not data:
            break
        if in_order and data != pattern(total, len(data)):
            in_order = False
        total += len(data)
        if last is not None and at - last > max_gap:
            max_gap, max_gap_at = at - last, at
        first = first if first is not None else at
        last = at
        if last_report is None or at - last_report >= report_ms:
            emit({'t': at, 'bytes': total})
            last_report = at
    emit({'done': True, 'bytes': total, 'inOrder': in_order, 'maxGapMs': max_gap,
          'maxGapAt': max_gap_at, 'firstAt': first, 'lastAt': last})
    return 0 if in_order else 2


def send(args):
    host, port = args.to.rsplit(':', 1)
    total_bytes = int(args.rate * args.seconds)
    try:
        with socket.create_connection((host, int(port)), timeout=args.connect_timeout) as conn:
            conn.settimeout(None)
            emit({'connected': True, 't': now_ms()})
            sent = pace(conn, total_bytes, args.rate)
            conn.shutdown(socket.SHUT_WR)
            conn.recv(1)  # wait for the receiver's close: everything was delivered
    except OSError as error:
        emit({'error': str(error), 't': now_ms()})
        return 1
    emit({'sent': sent, 't': now_ms()})
    return 0


def pace(conn, total_bytes, rate):
    start, sent = time.monotonic(), 0
    while sent < total_bytes:
        due = start + sent / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        length = min(CHUNK, total_bytes - sent)
        conn.sendall(pattern(sent, length))
        sent += length
    return sent


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    modes = parser.add_subparsers(dest='mode', required=True)
    server = modes.add_parser('serve')
    server.add_argument('--port', type=int, default=5001)
    server.add_argument('--report-ms', type=float, default=50)
    sender = modes.add_parser('send')
    sender.add_argument('--to', required=True, help='ip:port')
    sender.add_argument('--seconds', type=float, default=3)
    sender.add_argument('--rate', type=float, default=1_000_000, help='bytes per second')
    sender.add_argument('--connect-timeout', type=float, default=5)
    args = parser.parse_args(argv)
    return serve(args) if args.mode == 'serve' else send(args)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
