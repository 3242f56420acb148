"""Live migration of a Mininet host, emulated as hypervisors do it (the VM's NIC: vm_nic.py).

prepare: the destination hypervisor adds its port to the target bridge with the requested OpenFlow
  port number, before the stop, as libvirt's incoming QEMU adds its tap (`prepare`, or at the
  start of `migrate` if nothing was prepared).
stop-and-copy pause: the source's port leaves the VM's hub, so the VM receives nothing and whatever
  it sends is lost. The VM's own interface is not touched: it keeps its carrier, address, routes,
  ARP cache and sockets, as a paused guest does. Open vSwitch is not reconfigured in the pause.
resume: at pausedAt + pauseMs the destination's port joins the hub.
the source: its port stays on the old bridge, up, with nobody behind it, as a real hypervisor
  leaves it (QEMU keeps the paused source's tap open until it is quit, and libvirt keeps a paused
  source around for a while), for `lingerMs` after the resume; then the source quits and its port
  goes. With keepSource false it goes at the stop.
announce: RARP and/or gratuitous ARP rounds from inside the VM (announce.py), like announce_self.

The announcer is started (and its raw socket opened) before the pause, so the first frame leaves
within a millisecond of the resume instead of after a Python start-up.
"""

import json
import os
import selectors
import sys
import threading
import time

import ovs_ports
from vm_nic import NicError

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


def prepare(nic, to_bridge, to_port, external_ids=None):
    """The destination hypervisor adds its port (before the stop), with `external_ids` on its
    Interface row when given (libvirt's: attached-mac, iface-id, vm-uuid, iface-status). A source
    still lingering from the previous move quits first: the slot is the destination's now. Returns
    when it was added."""
    slot = nic.other()
    wanted = (to_bridge, to_port, tuple(sorted((external_ids or {}).items())))
    if nic.prepared == wanted and nic.bridges[slot] is not None:
        return nic.added_at[slot]  # prepared already
    nic.prepared = None
    if nic.bridges[slot] is not None:
        nic.remove_port(slot)  # the last move's source, or a port prepared for another destination
    occupant = ovs_ports.interface_on(to_bridge, to_port)
    if occupant is not None:
        raise MigrationError('port %d on %s is taken by %s' % (to_port, to_bridge, occupant))
    try:
        nic.add_port(slot, to_bridge, to_port, external_ids)
    except (NicError, ovs_ports.OvsError) as error:
        nic.remove_port(slot)
        raise MigrationError(str(error)) from error
    nic.prepared = wanted
    return nic.added_at[slot]


def pause_and_move(nic, slot, pause_ms, keep_source=True, on_phase=None):
    """Stop the VM at its source, resume it pause_ms later at hypervisor `slot` (prepared). Returns
    instants (epoch ms). Stop and resume are ioctls (under half a millisecond), so the pause is
    pause_ms give or take a scheduler tick. `on_phase(phase, at)` hears 'stopped' right after the
    stop and 'resumed' right after the resume, as a host agent following QEMU hears STOP and the
    migration's completion."""
    on_phase = on_phase or (lambda phase, at: None)
    source = nic.slot
    requested = now_ms()
    nic.stop()
    paused = now_ms()
    on_phase('stopped', paused)
    if not keep_source:
        nic.remove_port(source)
    delay = (paused + pause_ms - now_ms()) / 1000
    if delay > 0:
        time.sleep(delay)
    nic.resume(slot)
    resumed = now_ms()
    on_phase('resumed', resumed)
    return {'pauseRequestedAt': requested, 'pausedAt': paused, 'resumedAt': resumed}


def migrate(processes, vm, nic, plan, on_phase=None):
    """vm: {pid, iface, mac, ip}; nic: its VmNic; plan: {toBridge, toPort, pauseMs, announce, rounds,
    initialMs, stepMs, keepSource, lingerMs, externalIds}."""
    from_bridge, from_port = nic.bridge(), ovs_ports.ofport(nic.port(nic.slot))
    added_at = prepare(nic, plan['toBridge'], plan['toPort'], plan.get('externalIds'))
    nic.prepared = None
    slot = nic.other()
    announcer = None
    if plan['announce'] != 'none':
        announcer = Announcer(processes, vm['pid'], {
            'iface': vm['iface'], 'mac': vm['mac'], 'ip': vm['ip'], 'mode': plan['announce'],
            'rounds': plan['rounds'], 'initialMs': plan['initialMs'], 'stepMs': plan['stepMs']})
    keep_source = plan.get('keepSource', True)
    try:
        times = pause_and_move(nic, slot, plan['pauseMs'], keep_source, on_phase)
    except Exception:
        if nic.stopped:  # a failed move must not leave the VM cut off: back at its source if that is still there
            nic.resume(nic.slot if nic.bridges[nic.slot] is not None else slot)
        if announcer:
            announcer.abort()
        raise
    if keep_source:
        source = nic.other()
        quit_at = times['resumedAt'] + float(plan.get('lingerMs', 1000))
        generation = nic.generation[source]
        timer = threading.Timer(max(0.0, (quit_at - now_ms()) / 1000), _quit_source, (nic, source, generation))
        timer.daemon = True
        timer.start()
        times['sourceQuitAt'] = quit_at
    frames = []
    if announcer:
        announcer.go()
        frames = announcer.sent()
    times.update({
        'movedAt': added_at, 'fromBridge': from_bridge, 'fromPort': from_port, 'toBridge': plan['toBridge'],
        'toPort': ovs_ports.ofport(nic.port(slot)), 'port': nic.port(slot),
        'pauseMs': times['resumedAt'] - times['pausedAt'], 'requestedPauseMs': plan['pauseMs'],
        'announcedAt': frames[0]['t'] if frames else None, 'announcements': frames})
    return times


def _quit_source(nic, slot, generation):
    """The paused source quits (its port goes), unless a later move already reused its slot."""
    try:
        nic.remove_port(slot, generation)
    except Exception as error:  # a timer thread: say so, the agent goes on
        print('source %s did not quit: %s' % (nic.port(slot), error), file=sys.stderr)
