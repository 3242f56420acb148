"""The few Open vSwitch and link operations the agent needs, through ovs-vsctl / ovs-ofctl / ip,
and an ioctl for link state where timing matters (no process start on the migration's clock)."""

import fcntl
import json
import os
import socket
import struct
import subprocess

VSCTL_TIMEOUT_S = 10


class OvsError(RuntimeError):
    pass


def run(argv, check=True):
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise OvsError('%s failed (%d): %s' % (' '.join(argv), result.returncode, result.stderr.strip()))
    return result.stdout.strip()


def vsctl(*args, check=True):
    return run(['ovs-vsctl', '--timeout=%d' % VSCTL_TIMEOUT_S] + list(args), check=check)


def ofctl(*args):
    return run(['ovs-ofctl', '-O', 'OpenFlow13'] + list(args))


def bridge_exists(bridge):
    return subprocess.run(['ovs-vsctl', '--timeout=%d' % VSCTL_TIMEOUT_S, 'br-exists', bridge],
                          stdin=subprocess.DEVNULL, capture_output=True).returncode == 0


def link_exists(ifname):
    return os.path.exists('/sys/class/net/%s' % ifname)


def port_bridge(ifname):
    """The bridge a port is attached to, or None when it is detached."""
    bridge = vsctl('port-to-br', ifname, check=False)
    return bridge or None


def ofport(ifname):
    value = vsctl('get', 'Interface', ifname, 'ofport')
    return int(value) if value.lstrip('-').isdigit() else None


def move_port(from_bridge, to_bridge, ifname, port, stand_in=None):
    """Detach from one bridge (if any) and attach to another with an OpenFlow port number, atomically.
    stand_in=(name, port): that interface takes the old place and number, in the same transaction."""
    detach = ['del-port', from_bridge, ifname, '--'] if from_bridge else []
    if stand_in is not None and from_bridge:
        name, number = stand_in
        detach += ['add-port', from_bridge, name, '--', 'set', 'Interface', name, 'ofport_request=%d' % number, '--']
    vsctl(*detach, 'add-port', to_bridge, ifname, '--', 'set', 'Interface', ifname, 'ofport_request=%d' % port)


SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IFREQ = struct.Struct('16sH22x')  # struct ifreq: name, then ifr_flags in the union


def keep_root_stack_off(ifname):
    """A switch port's veth end lives in the root namespace, whose own stack would otherwise send
    IPv6 router solicitations and MLD reports to the host behind it, and answer its ARP requests
    for any address the machine owns, all without going through the switch."""
    for path, value in (('/proc/sys/net/ipv6/conf/%s/disable_ipv6', '1'),
                        ('/proc/sys/net/ipv4/conf/%s/arp_ignore', '8')):
        with open(path % ifname, 'w') as knob:
            knob.write(value)


def set_admin_up(ifname, up):
    """`ip link set IF up/down` for an interface in this namespace, in microseconds."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        name = ifname.encode()
        _, flags = IFREQ.unpack(fcntl.ioctl(sock, SIOCGIFFLAGS, IFREQ.pack(name, 0)))
        flags = flags | IFF_UP if up else flags & ~IFF_UP
        fcntl.ioctl(sock, SIOCSIFFLAGS, IFREQ.pack(name, flags))


def set_link(ifname, up):
    run(['ip', 'link', 'set', 'dev', ifname, 'up' if up else 'down'])


def delete_link(ifname):
    run(['ip', 'link', 'del', 'dev', ifname], check=False)


def delete_bridge(bridge):
    vsctl('--if-exists', 'del-br', bridge, check=False)


def interface_on(bridge, port):
    """Name of the interface with OpenFlow port number `port` on `bridge`, or None."""
    rows = json.loads(vsctl('--format=json', '--columns=name,ofport', 'list', 'Interface'))
    names = set(vsctl('list-ifaces', bridge).split())
    for name, number in rows['data']:
        if name in names and number == port:
            return name
    return None


def controllers_connected(bridges):
    """{bridge: True when at least one of its controllers is connected}."""
    listing = json.loads(vsctl('--format=json', '--columns=name,controller', 'list', 'Bridge', *bridges))
    connected = {}
    for name, controller in listing['data']:
        uuids = [ref[1] for ref in _set_items(controller)]
        connected[name] = any(vsctl('get', 'Controller', uuid, 'is_connected') == 'true' for uuid in uuids)
    return connected


def _set_items(value):
    """OVSDB JSON: a set is ["set", [...]], a single reference is ["uuid", "..."]."""
    if value[0] == 'set':
        return value[1]
    return [value]
