"""Live migration of a Mininet host, emulated as a hypervisor does it.

stop-and-copy pause: the switch-side end of the VM's link (its "tap") goes down, so the VM
  receives nothing and whatever it sends is lost. The VM's own interface is not touched: taking
  it down would flush its routes and ARP cache, which a paused VM keeps. (It sees no carrier for
  the pause; the topology sets arp_evict_nocarrier=0 in the VM so that its neighbours survive.)
move: during the pause the tap leaves the old bridge and joins the target bridge with the
  requested OpenFlow port number, in one ovs-vsctl transaction. The source's port stays up, as a
  real hypervisor leaves it: QEMU keeps the paused source's tap open until it is quit, and libvirt
  keeps a paused source around for a while. In the same transaction a stand-in port (a veth pair,
  both ends up, nobody behind it) takes the tap's place and OpenFlow port number on the old bridge,
  and stays for `lingerMs` after the resume (the source quitting), then goes.
resume: the tap comes up at pausedAt + pauseMs; the VM's interface, address, routes, neighbours
  and sockets are unchanged.
announce: RARP and/or gratuitous ARP rounds from inside the VM (announce.py), like announce_self.

The announcer is started (and its raw socket opened) before the pause, so the first frame leaves
within a millisecond of the resume instead of after a Python start-up.
"""

import json
import os
import selectors
import threading
import time

import ovs_ports

ANNOUNCER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'announce.py')
PYTHON = '/usr/bin/python3'
READY_TIMEOUT_S = 10


def now_ms():
    return time.time() * 1000


class MigrationError(RuntimeError):
    pass


class Announcer:
    """announce.py running in the VM, waiting for the go line."""

    def __init__(self, processes, vm_pid, options):
        argv = [PYTHON, ANNOUNCER, '--wait', '--iface', options['iface'], '--mac', options['mac'],
                '--ip', options['ip'], '--mode', options['mode'], '--rounds', str(options['rounds']),
                '--initial-ms', str(options['initialMs']), '--step-ms', str(options['stepMs'])]
        self._processes = processes
        self._proc = processes.spawn_raw(vm_pid, argv)
        line = self._read_line(READY_TIMEOUT_S)
        if not line or not json.loads(line).get('ready'):
            self.abort()
            raise MigrationError('announcer did not start: %s' % self._stderr())

    def go(self):
        self._proc.stdin.write(b'go\n')
        self._proc.stdin.flush()

    def sent(self):
        """Wait for the rounds to finish; return the frames sent as [{round, kind, t}]."""
        out, err = self._proc.communicate(timeout=60)
        self._processes.release(self._proc)
        if self._proc.returncode != 0:
            raise MigrationError('announcer failed: %s' % err.decode(errors='replace').strip())
        return [json.loads(line) for line in out.decode().splitlines() if line.strip()]

    def abort(self):
        self._proc.kill()
        self._proc.wait()
        self._processes.release(self._proc)

    def _read_line(self, timeout_s):
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            if not selector.select(timeout_s):
                return None
        return self._proc.stdout.readline().decode()

    def _stderr(self):
        if self._proc.poll() is None:
            return 'no ready line within %d s' % READY_TIMEOUT_S
        return self._proc.stderr.read().decode(errors='replace').strip()


class SourcePort:
    """The paused source's tap as a hypervisor leaves it: a port on the old bridge, up, that
    nobody reads, with the tap's OpenFlow port number. A veth pair in the root namespace whose
    own stack is kept quiet; removed when the source 'quits'."""

    def __init__(self, tap):
        base = tap[:-4] if tap.endswith('-tap') else tap[:11]
        self.port_end, self.other_end = base + '-src', base + '-srp'
        self.removed = False
        for name in (self.port_end, self.other_end):
            if ovs_ports.link_exists(name):
                ovs_ports.delete_link(name)
        ovs_ports.run(['ip', 'link', 'add', self.port_end, 'type', 'veth', 'peer', 'name', self.other_end])
        for name in (self.port_end, self.other_end):
            ovs_ports.keep_root_stack_off(name)
            ovs_ports.set_link(name, True)

    def remove(self):
        if self.removed:
            return
        self.removed = True
        bridge = ovs_ports.port_bridge(self.port_end)
        if bridge:
            ovs_ports.vsctl('--if-exists', 'del-port', bridge, self.port_end, check=False)
        ovs_ports.delete_link(self.port_end)


def pause_and_move(tap, from_bridge, to_bridge, to_port, pause_ms, source=None, from_port=None, on_phase=None):
    """Cut the tap, move it while the VM is paused, resume after pause_ms. Returns instants (epoch ms).

    Cut and resume are link-state ioctls (microseconds), so the pause is pause_ms give or take a
    scheduler tick; the move (one ovs-vsctl transaction, 20-60 ms here) happens inside it. A move
    slower than the pause delays the resume, and the measured pause says so. With `source`, its
    port takes the tap's place (and number) on the old bridge in the same transaction. `on_phase(phase,
    at)` hears 'stopped' right after the cut and 'resumed' right after the resume, as a host agent
    following QEMU hears STOP and the migration's completion."""
    on_phase = on_phase or (lambda phase, at: None)
    requested = now_ms()
    ovs_ports.set_admin_up(tap, False)
    paused = now_ms()
    on_phase('stopped', paused)
    stand_in = (source.port_end, from_port) if source is not None and from_bridge else None
    ovs_ports.move_port(from_bridge, to_bridge, tap, to_port, stand_in=stand_in)
    moved = now_ms()
    delay = (paused + pause_ms - now_ms()) / 1000
    if delay > 0:
        time.sleep(delay)
    ovs_ports.set_admin_up(tap, True)
    resumed = now_ms()
    on_phase('resumed', resumed)
    return {'pauseRequestedAt': requested, 'pausedAt': paused, 'movedAt': moved, 'resumedAt': resumed}


def migrate(processes, vm, plan, sources=None, on_phase=None):
    """vm: {pid, iface, mac, ip, tap}; plan: {toBridge, toPort, pauseMs, announce, rounds, initialMs,
    stepMs, keepSource, lingerMs}. `sources` tracks the source ports still lingering (tap -> SourcePort),
    so that the agent can remove them on cleanup and a move back can take over the port."""
    sources = {} if sources is None else sources
    from_bridge = ovs_ports.port_bridge(vm['tap'])
    from_port = ovs_ports.ofport(vm['tap']) if from_bridge else None
    lingering = sources.pop(vm['tap'], None)
    if lingering is not None:
        lingering.remove()  # a move before the previous source quit: it quits now
    occupant = ovs_ports.interface_on(plan['toBridge'], plan['toPort'])
    if occupant not in (None, vm['tap']):
        raise MigrationError('port %d on %s is taken by %s' % (plan['toPort'], plan['toBridge'], occupant))
    source = SourcePort(vm['tap']) if plan.get('keepSource', True) and from_bridge else None
    announcer = None
    if plan['announce'] != 'none':
        announcer = Announcer(processes, vm['pid'], {
            'iface': vm['iface'], 'mac': vm['mac'], 'ip': vm['ip'], 'mode': plan['announce'],
            'rounds': plan['rounds'], 'initialMs': plan['initialMs'], 'stepMs': plan['stepMs']})
    try:
        times = pause_and_move(vm['tap'], from_bridge, plan['toBridge'], plan['toPort'], plan['pauseMs'], source, from_port, on_phase)
    except Exception:
        ovs_ports.set_admin_up(vm['tap'], True)  # a failed move must not leave the VM cut off
        if source is not None:
            source.remove()
        if announcer:
            announcer.abort()
        raise
    if source is not None:
        sources[vm['tap']] = source
        quit_at = times['resumedAt'] + float(plan.get('lingerMs', 1000))
        timer = threading.Timer(max(0.0, (quit_at - now_ms()) / 1000), _quit_source, (sources, vm['tap'], source))
        timer.daemon = True
        timer.start()
        times['sourceQuitAt'] = quit_at
    frames = []
    if announcer:
        announcer.go()
        frames = announcer.sent()
    port = ovs_ports.ofport(vm['tap'])
    if port != plan['toPort']:
        raise MigrationError('%s got OpenFlow port %s on %s, not %d (port taken?)'
                             % (vm['tap'], port, plan['toBridge'], plan['toPort']))
    times.update({
        'fromBridge': from_bridge, 'fromPort': from_port, 'toBridge': plan['toBridge'], 'toPort': port,
        'pauseMs': times['resumedAt'] - times['pausedAt'], 'requestedPauseMs': plan['pauseMs'],
        'announcedAt': frames[0]['t'] if frames else None, 'announcements': frames})
    return times


def _quit_source(sources, tap, source):
    """The paused source is quit (its tap goes), unless a later move already did it."""
    if sources.get(tap) is source:
        sources.pop(tap, None)
    source.remove()
