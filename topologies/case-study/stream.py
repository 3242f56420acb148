#!/usr/bin/python3
"""A paced TCP stream whose every byte is checkable, for measuring migrations.

  stream.py serve --port P            (on the VM) accept one connection, verify the byte pattern,
                                        print one JSON line on exit
  stream.py send --host H --port P --rate BYTES_PER_S --duration S [--stop-file F]   (on a correspondent)

Byte i of the stream is i % 251 (a prime, so a lost, duplicated or reordered segment shows up as a
pattern mismatch). The receiver records a timeline of (time, cumulative bytes) at 1 ms resolution;
the longest pause in it is the application gap. Wall-clock times are comparable across Mininet
hosts (they share the kernel clock).
"""
import argparse, json, os, signal, socket, sys, time

PRIME = 251
PATTERN = bytes(i % PRIME for i in range(PRIME * 64 + 65536))


def tcp_counters():
    """Retransmitted segments and resets of this network namespace (/proc/net/snmp)."""
    with open('/proc/net/snmp') as f:
        rows = [line.split() for line in f if line.startswith('Tcp:')]
    names, values = rows[0][1:], [int(v) for v in rows[1][1:]]
    c = dict(zip(names, values))
    return {'retransSegs': c.get('RetransSegs', 0), 'outRsts': c.get('OutRsts', 0),
            'estabResets': c.get('EstabResets', 0)}


def serve(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', args.port))
    ls.listen(1)
    print(json.dumps({'event': 'listening', 'port': args.port}), flush=True)
    conn, peer = ls.accept()
    start = time.time()
    print(json.dumps({'event': 'accepted', 'peer': peer[0], 't': start}), flush=True)
    received, in_order, error, first_bad = 0, True, None, None
    timeline, last_ms = [], -1
    stop = {'now': False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    conn.settimeout(0.5)
    while not stop['now']:
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            continue
        except OSError as e:
            error = type(e).__name__ + ': ' + str(e)
            break
        if not chunk:
            break
        off = received % PRIME
        if in_order and chunk != PATTERN[off:off + len(chunk)]:
            in_order = False
            expected = PATTERN[off:off + len(chunk)]
            first_bad = received + next(i for i in range(len(chunk)) if chunk[i] != expected[i])  # the byte, not its recv() chunk
        received += len(chunk)
        t = time.time()
        ms = int(t * 1000)
        if ms != last_ms:
            timeline.append([round(t, 4), received])
            last_ms = ms
    conn.close()
    out = {'event': 'done', 'role': 'receiver', 'bytes': received, 'inOrder': in_order,
           'firstBadOffset': first_bad, 'error': error, 'start': start, 'end': time.time(),
           'counters': tcp_counters(), 'timeline': timeline}
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(out, f)
        out = {k: v for k, v in out.items() if k != 'timeline'}
    print(json.dumps(out), flush=True)


def send(args):
    before = tcp_counters()
    s = socket.create_connection((args.host, args.port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # A send that blocks on a dead path must not outlive a stop request.
    s.settimeout(0.5)
    print(json.dumps({'event': 'connected', 't': time.time()}), flush=True)
    tick = 0.002
    start = time.time()
    sent, error = 0, None
    stop = {'now': False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    deadline = start + args.duration
    ticks = 0
    while not stop['now'] and time.time() < deadline:
        ticks += 1
        if args.stop_file and ticks % 25 == 0 and os.path.exists(args.stop_file):
            break
        due = int((time.time() - start) * args.rate)
        n = min(due - sent, 65536)
        if n > 0:
            off = sent % PRIME
            try:
                sent += s.send(PATTERN[off:off + n])
            except socket.timeout:
                continue
            except OSError as e:
                error = type(e).__name__ + ': ' + str(e)
                break
        # One send per tick: without the pause every pass sends the few bytes that became due since
        # the last one, thousands of tiny segments a second (TCP_NODELAY), which a TCG guest cannot absorb.
        time.sleep(tick)
    if error is None:
        try:
            s.shutdown(socket.SHUT_WR)
            s.settimeout(args.linger)
            s.recv(1)  # wait for the receiver to close: every byte was read
        except OSError as e:
            error = type(e).__name__ + ': ' + str(e)
    s.close()
    after = tcp_counters()
    print(json.dumps({'event': 'done', 'role': 'sender', 'bytes': sent, 'error': error,
                      'start': start, 'end': time.time(),
                      'counters': {k: after[k] - before[k] for k in after}}), flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='mode', required=True)
    sv = sub.add_parser('serve'); sv.add_argument('--port', type=int, default=5001); sv.add_argument('--out')
    sd = sub.add_parser('send'); sd.add_argument('--host', required=True); sd.add_argument('--port', type=int, default=5001)
    sd.add_argument('--rate', type=float, default=2e6); sd.add_argument('--duration', type=float, default=20)
    sd.add_argument('--linger', type=float, default=10)
    sd.add_argument('--stop-file', help='stop sending once this file exists')
    args = p.parse_args()
    serve(args) if args.mode == 'serve' else send(args)


if __name__ == '__main__':
    main()
