#!/usr/bin/python3
"""Mininet agent: builds the Seamless topology and serves JSON-line commands on stdin/stdout.

Run by the TypeScript driver (topologies/mininet-driver.ts) with Debian's /usr/bin/python3.
Requests, one per line:  {"id": 1, "op": "start", ...}
Responses, one per line: {"id": 1, "ok": true, "result": {...}} or {"id": 1, "ok": false, "error": "..."}
Events (no id):          {"event": "line", "handle": 3, "stream": "stdout", "line": "..."}
                         {"event": "exit", "handle": 3, "code": 0}
                         {"event": "migration", "vm": "vm1", "phase": "stopped", "at": 1.7e12}
Ops: start, cmd, popen, kill, prepare, migrate, port, attachment, connected, stop (see the op_ methods).

Everything the agent creates (bridges, root-namespace veth ends, the VMs' NICs with their
namespaces, host shells, host processes) is tracked and removed on stop, on stdin EOF, on
SIGTERM/SIGINT/SIGHUP and at exit. It never runs `mn -c` and never kills processes by name: only
what it started, by pid.
"""

import atexit
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
from functools import partial

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch

import migration
import ovs_ports
from host_processes import ProcessTable
from seamless_topo import VM_PORT, build_topology, vm_tap_name
from vm_nic import VmNic, netns_name, port_name

PREFIX_PATTERN = re.compile(r'^[a-z0-9]{0,5}$')
VIF_ID_PATTERN = re.compile(r'^[A-Za-z0-9._-]{1,64}$')
THREADED_OPS = {'cmd', 'popen', 'kill', 'prepare', 'migrate', 'port', 'attachment', 'connected'}


class AgentError(RuntimeError):
    pass


class Channel:
    """The protocol stream. fd 1 is redirected to stderr so that nothing else (Mininet's logging,
    child processes) can write into the protocol."""

    def __init__(self):
        self._out = os.fdopen(os.dup(1), 'w', buffering=1)
        os.dup2(2, 1)
        self._lock = threading.Lock()

    def send(self, message):
        line = json.dumps(message, default=str) + '\n'
        with self._lock:
            try:
                self._out.write(line)
                self._out.flush()
            except (BrokenPipeError, ValueError):
                pass  # the driver is gone; cleanup follows from stdin EOF


class ControllerTarget:
    """The remote controller as Mininet's switches need it, without Mininet's telnet probe."""

    protocol = 'tcp'

    def __init__(self, host, port, name='c0'):
        self.name, self._host, self.port = name, host, port

    def IP(self):
        return self._host

    def start(self):
        pass

    def stop(self):
        pass


class Agent:
    def __init__(self, channel):
        self.channel = channel
        self.processes = ProcessTable(channel.send)
        self.net = None
        self.prefix = ''
        self.bridges = {}       # logical name (s1) -> bridge name (<prefix>s1)
        self.root_links = []    # switch-side veth ends in the root namespace
        self.host_shells = []   # Mininet host shell processes (the namespaces live as long as they do)
        self.vms = {}
        self.nics = {}          # VM name -> its NIC (vm_nic.VmNic): the hub and the hypervisors' ports
        self.stopped = False
        self._cleanup_lock = threading.Lock()
        self._migration_lock = threading.Lock()

    # --- ops -------------------------------------------------------------------------------

    def op_start(self, req):
        if self.net is not None:
            raise AgentError('already started')
        started = time.monotonic()
        self.prefix = req.get('prefix', '')
        if not PREFIX_PATTERN.match(self.prefix):
            raise AgentError('prefix must be 0-5 characters [a-z0-9]: %r' % self.prefix)
        topo = build_topology(prefix=self.prefix, subnets=req.get('subnets', 3),
                              external=req.get('external', True), vm=req.get('vm', 'mininet'))
        self._refuse_existing(topo)
        switch = partial(OVSSwitch, datapath='user', failMode='secure',
                         protocols=req.get('protocols', 'OpenFlow13'))
        self.net = Mininet(topo=topo, switch=switch, controller=None, autoSetMacs=False,
                           listenPort=None, build=False)
        self.bridges = {sw[len(self.prefix):]: sw for sw in topo.switches()}
        self.net.build()
        self._record_created()
        # One controller, or several replicas of a cluster: every switch connects to all of them.
        targets = req.get('controllers') or ([req['controller']] if req.get('controller') else [])
        for i, target in enumerate(targets):
            self.net.controllers.append(ControllerTarget(target['host'], int(target['port']), 'c%d' % i))
        self.net.start()
        for name, vm in self.vms.items():
            nic = self.nics[name] = VmNic(self.prefix, name, vm['tap'])
            nic.create(ovs_ports.port_bridge(vm['tap']), VM_PORT)
            self.root_links.remove(vm['tap'])  # in the hub's namespace now
        if req.get('plainL2'):
            for bridge in self.bridges.values():
                ovs_ports.ofctl('add-flow', bridge, 'priority=0,actions=NORMAL')
        return self._describe(time.monotonic() - started)

    def op_cmd(self, req):
        timeout_ms = req.get('timeoutMs', 10000)
        return self.processes.run(self._host_pid(req['host']), req['command'], timeout_ms / 1000)

    def op_popen(self, req):
        return self.processes.spawn(self._host_pid(req['host']), req['command'])

    def op_kill(self, req):
        return self.processes.kill(req['handle'], req.get('signal', 'SIGTERM'))

    def op_prepare(self, req):
        """The destination hypervisor adds its port ahead of a migration (libvirt's incoming QEMU)."""
        self._vm(req['vm'])
        with self._migration_lock:
            added_at = migration.prepare(self.nics[req['vm']], self._bridge(req['toSwitch']), self._to_port(req),
                                         self._vif(req, self.vms[req['vm']]))
        return {'addedAt': added_at}

    def op_migrate(self, req):
        vm = self._vm(req['vm'])
        plan = {'toBridge': self._bridge(req['toSwitch']), 'toPort': self._to_port(req),
                'pauseMs': float(req.get('pauseMs', 100)), 'announce': req.get('announce', 'both'),
                'keepSource': bool(req.get('keepSource', True)), 'lingerMs': float(req.get('lingerMs', 1000)),
                'externalIds': self._vif(req, vm), 'rounds': int(req.get('announceRounds', 5)),
                'initialMs': float(req.get('announceInitialMs', 50)),
                'stepMs': float(req.get('announceStepMs', 100))}
        if plan['announce'] not in ('rarp', 'garp', 'both', 'none'):
            raise AgentError('announce must be rarp, garp, both or none')
        def on_phase(phase, at):
            self.channel.send({'event': 'migration', 'vm': req['vm'], 'phase': phase, 'at': at})
        with self._migration_lock:
            times = migration.migrate(self.processes, vm, self.nics[req['vm']], plan, on_phase)
        times['fromSwitch'] = self._logical(times['fromBridge'])
        times['toSwitch'] = self._logical(times['toBridge'])
        return times

    def op_port(self, req):
        bridge = self._bridge(req['switch'])
        ifname = ovs_ports.interface_on(bridge, int(req['port']))
        if ifname is None:
            raise AgentError('no interface on %s port %s' % (bridge, req['port']))
        ovs_ports.set_link(ifname, bool(req['up']))
        return {'interface': ifname}

    def op_attachment(self, req):
        """Where the VM runs: its hypervisor's port, the bridge and OpenFlow port number."""
        self._vm(req['host'])
        nic = self.nics[req['host']]
        port = nic.port(nic.slot)
        bridge = ovs_ports.port_bridge(port)
        return {'tap': port, 'bridge': bridge, 'switch': self._logical(bridge),
                'port': ovs_ports.ofport(port) if bridge else None}

    def op_connected(self, req):
        connected = ovs_ports.controllers_connected(list(self.bridges.values()))
        return {self._logical(bridge): state for bridge, state in connected.items()}

    def op_stop(self, req):
        self.cleanup()
        return {}

    # --- lifecycle -------------------------------------------------------------------------

    def cleanup(self):
        """Remove everything this agent created. Idempotent; safe after a partial start."""
        with self._cleanup_lock:
            if self.stopped:
                return
            self.stopped = True
            self._quietly(self.processes.end_all)
            for nic in self.nics.values():
                self._quietly(nic.destroy)
            if self.net is not None:
                self._quietly(self.net.stop)
            for bridge in self.bridges.values():
                if ovs_ports.bridge_exists(bridge):
                    ovs_ports.delete_bridge(bridge)
            for ifname in self.root_links:
                if ovs_ports.link_exists(ifname):
                    ovs_ports.delete_link(ifname)
            for shell in self.host_shells:
                if shell.poll() is None:
                    shell.kill()
                    shell.wait()

    def _quietly(self, action):
        try:
            action()
        except Exception:  # cleanup goes on; the trace helps whoever reads stderr
            traceback.print_exc(file=sys.stderr)

    def _refuse_existing(self, topo):
        """Mininet deletes a bridge that already has a switch's name: refuse to clobber another run."""
        taken = [sw for sw in topo.switches() if ovs_ports.bridge_exists(sw)]
        for host in topo.hosts():
            names = [vm_tap_name(self.prefix, host), port_name(self.prefix, host, 0), port_name(self.prefix, host, 1)]
            taken += [name for name in names if ovs_ports.link_exists(name)]
            if os.path.exists('/run/netns/%s' % netns_name(self.prefix, host)):
                taken.append('namespace %s' % netns_name(self.prefix, host))
        if taken:
            raise AgentError('%s already exist (another topology running with prefix %r?)'
                             % (', '.join(taken), self.prefix))

    def _record_created(self):
        for switch in self.net.switches:
            for intf in switch.intfList():
                if intf.name.startswith(self.prefix) and intf.name != 'lo':
                    self.root_links.append(intf.name)
                    ovs_ports.keep_root_stack_off(intf.name)
        self.host_shells = [host.shell for host in self.net.hosts if host.shell is not None]
        for host in self.net.hosts:
            tap = vm_tap_name(self.prefix, host.name)
            if tap in self.root_links:
                intf = host.defaultIntf()
                self.vms[host.name] = {'pid': host.pid, 'iface': intf.name, 'mac': intf.MAC(),
                                       'ip': intf.IP(), 'tap': tap}

    def _describe(self, elapsed_s):
        hosts = {host.name: {'pid': host.pid, 'interfaces': [
            {'name': intf.name, 'ip': intf.IP(), 'mac': intf.MAC()} for intf in host.intfList()
            if intf.name != 'lo']} for host in self.net.hosts}
        switches = {logical: {'bridge': bridge, 'dpid': self.net[bridge].dpid}
                    for logical, bridge in self.bridges.items()}
        return {'prefix': self.prefix, 'hosts': hosts, 'switches': switches, 'vms': self.vms,
                'rootLinks': self.root_links, 'startMs': elapsed_s * 1000}

    # --- names -----------------------------------------------------------------------------

    def _host_pid(self, name):
        node = self.net.nameToNode.get(name) if self.net is not None else None
        if node is None or node in self.net.switches:
            raise AgentError('unknown host %r' % name)
        return node.pid

    def _vm(self, name):
        if name not in self.vms:
            raise AgentError('%r is not a movable host (known: %s)' % (name, ', '.join(self.vms)))
        return self.vms[name]

    def _bridge(self, switch):
        if switch in self.bridges:
            return self.bridges[switch]
        if switch in self.bridges.values():
            return switch
        raise AgentError('unknown switch %r (known: %s)' % (switch, ', '.join(self.bridges)))

    def _vif(self, req, vm):
        """libvirt's external_ids for the destination's Interface row, from `vif` {ifaceId, vmUuid}:
        what the controller's OVSDB watcher reads as the VM's coming place. None without `vif`."""
        vif = req.get('vif')
        if vif is None:
            return None
        ids = {key: vif.get(key) if isinstance(vif, dict) else None for key in ('ifaceId', 'vmUuid')}
        for key, value in ids.items():
            if not isinstance(value, str) or not VIF_ID_PATTERN.match(value):
                raise AgentError('vif.%s must be 1-64 characters [A-Za-z0-9._-]: %r' % (key, value))
        return {'attached-mac': vm['mac'], 'iface-id': ids['ifaceId'], 'vm-uuid': ids['vmUuid'], 'iface-status': 'active'}

    def _to_port(self, req):
        port = req.get('toPort', VM_PORT)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 0xfeff:
            raise AgentError('toPort must be an OpenFlow port number, 1-65279: %r' % (port,))
        return port

    def _logical(self, bridge):
        for logical, name in self.bridges.items():
            if name == bridge:
                return logical
        return bridge


def handle(agent, line):
    try:
        req = json.loads(line)
    except ValueError:
        agent.channel.send({'event': 'error', 'error': 'not JSON: %r' % line[:200]})
        return
    op = req.get('op')
    method = getattr(agent, 'op_%s' % op, None)

    def respond():
        try:
            if method is None:
                raise AgentError('unknown op %r' % op)
            agent.channel.send({'id': req.get('id'), 'ok': True, 'result': method(req)})
        except Exception as error:  # every failure becomes a response; the agent keeps serving
            detail = str(error) if isinstance(error, (AgentError, migration.MigrationError,
                                                      ovs_ports.OvsError)) else traceback.format_exc()
            agent.channel.send({'id': req.get('id'), 'ok': False, 'error': detail})

    if op in THREADED_OPS:
        threading.Thread(target=respond, daemon=True).start()
    else:
        respond()


def install_signal_handlers(agent):
    def on_signal(number, _frame):
        if not agent.stopped:
            raise SystemExit(128 + number)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)


def main():
    channel = Channel()
    setLogLevel(os.environ.get('SEAMLESS_MININET_LOG', 'warning'))
    agent = Agent(channel)
    atexit.register(agent.cleanup)
    install_signal_handlers(agent)
    try:
        channel.send({'event': 'ready', 'pid': os.getpid()})
        while not agent.stopped:
            line = sys.stdin.readline()
            if not line:
                break
            if line.strip():
                handle(agent, line)
    finally:
        agent.cleanup()


if __name__ == '__main__':
    main()
