"""An emulated VM's NIC as hypervisors plumb a real one: one switch port per hypervisor.

A real VM reaches the network through a tap that its hypervisor adds to the switch. For a live
migration the destination adds its own tap before the stop-and-copy (libvirt starts the incoming
QEMU first), the source's tap stays until the source QEMU quits, and the stop moves the VM from one
to the other without touching a switch. A Mininet host has one veth, so the emulation puts a small
Linux bridge (the hub) between the VM's veth and one port per hypervisor:

    VM namespace           hub namespace (<prefix><vm>-hv)        root namespace, Open vSwitch
    <vm>-eth0 --- veth --- <prefix><vm>-tap  [hub]  h0 --- veth --- <prefix><vm>-p0  (the source)
                                                    h1 --- veth --- <prefix><vm>-p1  (the destination)

Only the running hypervisor's end (h0 or h1) is in the hub. The hub lives in a namespace of its own:
in the root namespace the bridge netfilter would put the VM's frames through the machine's iptables.

stop:   the source's end leaves the hub. The VM's frames go nowhere and nothing reaches it; the VM
        keeps its carrier, as a paused guest does.
resume: the destination's end joins the hub.
Both are ioctls (the stop took 0.2-0.5 ms in the benchmarks). Open vSwitch is not reconfigured
inside the pause: the destination's port was added before it, and the source's goes when the
source quits. A port's removal costs Open vSwitch's userspace datapath a kernel RCU grace period
(closing its packet socket) during which its main thread forwards nothing; a real hypervisor's
taps come and go at the same moments, so the emulation pays it where they do.
"""

import ctypes
import fcntl
import json
import os
import socket
import struct
import threading
import time

import ovs_ports

CLONE_NEWNET = 0x40000000
SIOCGIFINDEX = 0x8933
SIOCBRADDIF = 0x89a2
SIOCBRDELIF = 0x89a3
IFREQ_INDEX = struct.Struct('16si20x')  # struct ifreq: name, then ifr_ifindex in the union
HUB = 'hub'
SLOTS = 2

_libc = ctypes.CDLL(None, use_errno=True)


class NicError(RuntimeError):
    pass


def netns_name(prefix, vm):
    return '%s%s-hv' % (prefix, vm)


def port_name(prefix, vm, slot):
    """The Open vSwitch port of hypervisor `slot` (0 or 1): named after the VM, as its tap is."""
    return '%s%s-p%d' % (prefix, vm, slot)


def _socket_in(netns):
    """A datagram socket in another network namespace: interface ioctls on it act there. Made on a
    thread of its own, which enters the namespace and ends; the rest of the process stays put."""
    made = {}

    def enter_and_make():
        try:
            fd = os.open('/run/netns/%s' % netns, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, 'setns %s: %s' % (netns, os.strerror(err)))
            finally:
                os.close(fd)
            made['socket'] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        except Exception as error:  # re-raised on the caller's thread
            made['error'] = error

    thread = threading.Thread(target=enter_and_make)
    thread.start()
    thread.join()
    if 'error' in made:
        raise made['error']
    return made['socket']


class VmNic:
    """The hub and the hypervisors' ports of one VM. `slot`: the hypervisor running the VM, or the
    one that stopped it until another resumes it; `stopped`: its end is out of the hub;
    `bridges[slot]`: the bridge of that slot's port, or None."""

    def __init__(self, prefix, vm, tap):
        self.prefix, self.vm, self.tap = prefix, vm, tap
        self.netns = netns_name(prefix, vm)
        self.bridges = [None] * SLOTS
        self.added_at = [None] * SLOTS    # epoch ms
        self.generation = [0] * SLOTS     # counts each slot's ports, so that a late quit spares a new one
        self.slot = 0
        self.stopped = True
        self.prepared = None                  # (bridge, ofport) of the other slot's port, added for a coming migration
        self._sock = None
        self._lock = threading.Lock()         # the state: slot, stopped, bridges
        self._ports = threading.Lock()        # one port added or removed at a time (a source's quit
                                              # runs on a timer, maybe beside the next prepare)

    # --- set-up and tear-down (not on a migration's clock) --------------------------------

    def create(self, home_bridge, home_port):
        """Take the VM's tap off `home_bridge`, put the hub behind it, and give the VM hypervisor 0's
        port on `home_bridge` with the tap's OpenFlow port number."""
        ovs_ports.run(['ip', 'netns', 'add', self.netns])
        # Plumbing, not a host: no IPv6 of its own (router solicitations, MLD) on the VM's wire.
        self._in_ns('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')
        self._in_ns('ip', 'link', 'add', HUB, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0')
        self._in_ns('ip', 'link', 'set', HUB, 'up')
        ovs_ports.vsctl('--if-exists', 'del-port', home_bridge, self.tap)
        ovs_ports.run(['ip', 'link', 'set', self.tap, 'netns', self.netns])
        self._in_ns('ip', 'link', 'set', self.tap, 'master', HUB, 'up')
        self._sock = _socket_in(self.netns)
        self.add_port(0, home_bridge, home_port)
        self.resume(0)

    def destroy(self):
        """Everything this NIC made: its ports (deleting a veth end deletes its pair) and namespace."""
        for slot in range(SLOTS):
            if self.bridges[slot] is not None:
                ovs_ports.vsctl('--if-exists', 'del-port', self.bridges[slot], self.port(slot), check=False)
                self.bridges[slot] = None
            if ovs_ports.link_exists(self.port(slot)):
                ovs_ports.delete_link(self.port(slot))
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if os.path.exists('/run/netns/%s' % self.netns):
            ovs_ports.run(['ip', 'netns', 'del', self.netns], check=False)

    # --- the hypervisors' ports --------------------------------------------------------------

    def port(self, slot):
        return port_name(self.prefix, self.vm, slot)

    def bridge(self):
        """The bridge of the hypervisor running the VM (or that stopped it)."""
        return self.bridges[self.slot]

    def other(self):
        """The other hypervisor's slot: where the next migration goes."""
        return (self.slot + 1) % SLOTS

    def add_port(self, slot, bridge, ofport, external_ids=None):
        """Hypervisor `slot` adds its port to `bridge` with OpenFlow port number `ofport`, up, its
        hub end not yet in the hub (a destination hypervisor before the migration's stop).
        `external_ids` go on its Interface row in the same transaction (libvirt's attached-mac...)."""
        with self._ports:
            if self.bridges[slot] is not None or ovs_ports.link_exists(self.port(slot)):
                raise NicError('%s is in use' % self.port(slot))
            end = 'h%d' % slot
            ovs_ports.run(['ip', 'link', 'add', self.port(slot), 'type', 'veth', 'peer', 'name', end, 'netns', self.netns])
            ovs_ports.keep_root_stack_off(self.port(slot))
            ovs_ports.set_link(self.port(slot), True)
            self._in_ns('ip', 'link', 'set', end, 'up')
            with self._lock:
                self.bridges[slot] = bridge  # before the transaction: a failed one is still removed
                self.generation[slot] += 1
            ids = ['external_ids:%s=%s' % (key, json.dumps(value)) for key, value in sorted((external_ids or {}).items())]
            ovs_ports.vsctl('add-port', bridge, self.port(slot), '--', 'set', 'Interface', self.port(slot),
                            'ofport_request=%d' % ofport, *ids)
            self.added_at[slot] = time.time() * 1000
            got = ovs_ports.ofport(self.port(slot))
        if got != ofport:
            raise NicError('%s got OpenFlow port %s on %s, not %d (port taken?)' % (self.port(slot), got, bridge, ofport))

    def remove_port(self, slot, generation=None):
        """Hypervisor `slot` quits: its port leaves the switch and its veth goes. With `generation`,
        only if the slot still has that port (not a later move's)."""
        with self._ports:
            with self._lock:
                if generation is not None and generation != self.generation[slot]:
                    return
                if slot == self.slot and not self.stopped:
                    raise NicError('%s carries the running VM' % self.port(slot))
                bridge, self.bridges[slot] = self.bridges[slot], None
            if bridge is not None:
                ovs_ports.vsctl('--if-exists', 'del-port', bridge, self.port(slot), check=False)
            ovs_ports.delete_link(self.port(slot))

    # --- stop and resume (on the migration's clock: ioctls only) ----------------------------

    def stop(self):
        """The running hypervisor's end leaves the hub: the VM is cut off, its carrier stays."""
        with self._lock:
            if self.stopped:
                raise NicError('%s is stopped already' % self.vm)
            self._enslave(self.slot, False)
            self.stopped = True

    def resume(self, slot):
        """Hypervisor `slot`'s end joins the hub: the VM runs there."""
        with self._lock:
            if not self.stopped:
                raise NicError('%s runs already' % self.vm)
            if self.bridges[slot] is None:
                raise NicError('%s has no port' % self.port(slot))
            self._enslave(slot, True)
            self.slot, self.stopped = slot, False

    def _enslave(self, slot, add):
        end = ('h%d' % slot).encode()
        _, index = IFREQ_INDEX.unpack(fcntl.ioctl(self._sock, SIOCGIFINDEX, IFREQ_INDEX.pack(end, 0)))
        fcntl.ioctl(self._sock, SIOCBRADDIF if add else SIOCBRDELIF, IFREQ_INDEX.pack(HUB.encode(), index))

    def _in_ns(self, *argv):
        return ovs_ports.run(['ip', 'netns', 'exec', self.netns] + list(argv))
