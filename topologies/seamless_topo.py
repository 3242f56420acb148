"""The Seamless reference topology for Mininet.

Subnets A 10.0.1.0/24, B 10.0.2.0/24, C 10.0.3.0/24, each with one OVS edge switch (s1, s2, s3;
dpids 1, 2, 3), joined by an unmodified Linux router `r`; one correspondent per subnet (cnA, cnB,
cnC), an external host `ext` behind the router with no managed edge, and a VM `vm` that starts in A.

Port plan, identical on every edge switch so that rules never depend on where the VM is:
    port 1  the subnet's correspondent
    port 2  the router
    port 10 the VM (when it is attached to this switch)
    port 11 free: the second VM port on s1 for intra-subnet moves

Usable from the command line:
    mn --custom topologies/seamless_topo.py --topo seamless \\
       --controller remote,ip=127.0.0.1,port=6653 --switch ovs,datapath=user,protocols=OpenFlow13
and importable: `build_topology(prefix='x1', subnets=3)`. With `vm='none'` (`--topo seamless,vm=none`)
the topology has no VM host and s1 port 10 is left for a real QEMU guest (topologies/qemu/).
"""

from mininet.node import Host
from mininet.topo import Topo

CN_PORT = 1
ROUTER_PORT = 2
VM_PORT = 10
SPARE_VM_PORT = 11
EXTERNAL_SUBNET = 9
LETTERS = 'ABCDEFGH'


def subnet_prefix(index):
    """'10.0.<index>' for subnet index 1, 2, 3..."""
    return '10.0.%d' % index


def mac_for(subnet, host_byte):
    """The project's MAC convention: 02:00:00:00:<subnet>:<host byte>, both in hex."""
    return '02:00:00:00:%02x:%02x' % (subnet, host_byte)


def vm_tap_name(prefix, vm='vm'):
    """Switch-side end of a VM's link: named after the VM, not the switch, because it moves."""
    return '%s%s-tap' % (prefix, vm)


class SeamlessHost(Host):
    """A Mininet host as Linux sets one up (IPv6 on: its first frames are NDP and MLD), with one
    limit of the lab handled: TCP through the userspace datapath needs TX checksum offload off
    (veth hands OVS packets whose checksum is still partial; docs/architecture.md, known limits).
    """

    def config(self, **params):
        result = super().config(**params)
        commands = ['ethtool -K %s tx off >/dev/null' % intf for intf in self.intfNames() if intf != 'lo']
        self.cmd('; '.join(commands))
        return result


class LinuxRouter(SeamlessHost):
    """An unmodified Linux router: forwarding on, every other sysctl at its default (rp_filter,
    accept_local, send_redirects, IPv6 as the machine has them)."""

    def config(self, **params):
        result = super().config(**params)
        self.cmd('sysctl -qw net.ipv4.ip_forward=1')
        return result


VM_KINDS = ('mininet', 'none')


class SeamlessTopo(Topo):
    """Parameters: prefix (prepended to switch and tap names, so that several instances can share
    one Open vSwitch), subnets (how many managed subnets, 1..8), external (add `ext` behind the router),
    vm ('mininet': the emulated VM host `vm` on s1 port 10; 'none': no VM host, s1 port 10 stays free
    for a real QEMU guest's tap, see topologies/qemu/)."""

    def build(self, prefix='', subnets=3, external=True, vm='mininet'):
        subnets = int(subnets)
        if not 1 <= subnets <= len(LETTERS):
            raise ValueError('subnets must be between 1 and %d' % len(LETTERS))
        if vm not in VM_KINDS:
            raise ValueError('vm must be one of %s, not %r' % (', '.join(VM_KINDS), vm))
        router = self.addHost('r', cls=LinuxRouter, ip='10.0.1.1/24')
        for index in range(1, subnets + 1):
            self._add_subnet(prefix, router, index)
        if external:
            self._add_external(router, subnets)
        if vm == 'mininet':
            self._add_vm(prefix, 'vm', home=1, host_byte=10)

    def _add_subnet(self, prefix, router, index):
        net = subnet_prefix(index)
        switch = self.addSwitch('%ss%d' % (prefix, index), dpid='%016x' % index)
        cn = self.addHost('cn' + LETTERS[index - 1], cls=SeamlessHost, ip=net + '.20/24',
                          defaultRoute='via %s.1' % net)
        self.addLink(cn, switch, port1=0, port2=CN_PORT, addr1=mac_for(index, 0x14))
        self.addLink(router, switch, port1=index - 1, port2=ROUTER_PORT,
                     intfName1='r-eth%d' % (index - 1), addr1=mac_for(index, 0x01),
                     params1={'ip': net + '.1/24'})

    def _add_external(self, router, subnets):
        net = subnet_prefix(EXTERNAL_SUBNET)
        ext = self.addHost('ext', cls=SeamlessHost, ip=net + '.2/24', defaultRoute='via %s.1' % net)
        self.addLink(router, ext, port1=subnets, port2=0, intfName1='r-eth%d' % subnets,
                     addr1=mac_for(EXTERNAL_SUBNET, 0x01), addr2=mac_for(EXTERNAL_SUBNET, 0x02),
                     params1={'ip': net + '.1/24'})

    def _add_vm(self, prefix, name, home, host_byte):
        net = subnet_prefix(home)
        vm = self.addHost(name, cls=SeamlessHost, ip='%s.%d/24' % (net, host_byte),
                          defaultRoute='via %s.1' % net)
        self.addLink(vm, '%ss%d' % (prefix, home), port1=0, port2=VM_PORT,
                     intfName2=vm_tap_name(prefix, name), addr1=mac_for(home, host_byte))


def build_topology(prefix='', subnets=3, external=True, vm='mininet'):
    """The reference topology (or a variant with fewer or more subnets, or without the VM host)."""
    return SeamlessTopo(prefix=prefix, subnets=subnets, external=external, vm=vm)


topos = {'seamless': SeamlessTopo}
