"""The few Open vSwitch and link operations the agent needs, through ovs-vsctl / ovs-ofctl / ip.
(What a migration does on its clock is an ioctl: vm_nic.py.)"""

import json
import os
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


def keep_root_stack_off(ifname):
    """A switch port's veth end lives in the root namespace, whose own stack would otherwise send
    IPv6 router solicitations and MLD reports to the host behind it, and answer its ARP requests
    for any address the machine owns, all without going through the switch."""
    for path, value in (('/proc/sys/net/ipv6/conf/%s/disable_ipv6', '1'),
                        ('/proc/sys/net/ipv4/conf/%s/arp_ignore', '8')):
        with open(path % ifname, 'w') as knob:
            knob.write(value)


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
