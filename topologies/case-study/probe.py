#!/usr/bin/python3
"""Reachability probes run inside Mininet hosts: new TCP connections and UDP round trips.

  probe.py tcp-server --port P [--count N]     echo one line per connection, N connections then exit
  probe.py tcp --host H --port P [--source A]  connect, send a line, expect it echoed
  probe.py udp-server --port P [--count N]     echo datagrams
  probe.py udp --host H --port P [--source A]  send a datagram, expect the echo (3 tries)
--source binds the client to one of the host's addresses first (a router speaking from each of its own).
Each client prints one JSON line {ok, rttMs, peer, error} and exits 0 when ok.
"""
import argparse, json, socket, sys, time


def tcp_server(a):
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', a.port)); ls.listen(16)
    print(json.dumps({'event': 'listening'}), flush=True)
    for _ in range(a.count):
        c, peer = ls.accept()
        c.settimeout(5)
        try:
            data = c.recv(4096)
            c.sendall(data)
            print(json.dumps({'event': 'served', 'peer': peer[0]}), flush=True)
        except OSError:
            pass
        c.close()


def udp_server(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', a.port))
    print(json.dumps({'event': 'listening'}), flush=True)
    for _ in range(a.count):
        data, peer = s.recvfrom(4096)
        s.sendto(data, peer)
        print(json.dumps({'event': 'served', 'peer': peer[0]}), flush=True)


def tcp_client(a):
    t0 = time.time()
    try:
        s = socket.create_connection((a.host, a.port), timeout=a.timeout,
                                     source_address=(a.source, 0) if a.source else None)
        s.settimeout(a.timeout)
        msg = b'seamless-probe %f\n' % t0
        s.sendall(msg)
        got = b''
        while len(got) < len(msg):
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        peer = s.getpeername()[0]
        s.close()
        ok = got == msg
        return {'ok': ok, 'rttMs': round((time.time() - t0) * 1000, 2), 'peer': peer,
                'error': None if ok else 'echo mismatch'}
    except OSError as e:
        return {'ok': False, 'error': type(e).__name__ + ': ' + str(e)}


def udp_client(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(a.timeout / 3)
    if a.source:
        s.bind((a.source, 0))
    msg = b'seamless-udp %f' % time.time()
    for _ in range(3):
        t0 = time.time()
        s.sendto(msg, (a.host, a.port))
        try:
            data, peer = s.recvfrom(4096)
            if data == msg:
                return {'ok': True, 'rttMs': round((time.time() - t0) * 1000, 2), 'peer': peer[0], 'error': None}
        except socket.timeout:
            continue
    return {'ok': False, 'error': 'no echo'}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['tcp-server', 'udp-server', 'tcp', 'udp'])
    p.add_argument('--host'); p.add_argument('--port', type=int, default=6001); p.add_argument('--source')
    p.add_argument('--count', type=int, default=1000); p.add_argument('--timeout', type=float, default=3)
    a = p.parse_args()
    if a.mode == 'tcp-server':
        return tcp_server(a)
    if a.mode == 'udp-server':
        return udp_server(a)
    r = tcp_client(a) if a.mode == 'tcp' else udp_client(a)
    print(json.dumps(r), flush=True)
    sys.exit(0 if r['ok'] else 1)


if __name__ == '__main__':
    main()
