// The lab's libvirt domain XML (topologies/libvirt/libvirt-host.ts): what the e2e test's libvirtd
// is given, and the refusal of values the XML would have to quote.
import { expect } from 'chai';
import { agentPath, domainXml, HOST_DIR, LibvirtHostError } from '../../../topologies/libvirt/libvirt-host.js';

const SPEC = { name: 'vm1', mac: '02:00:00:00:01:0a', bridge: 's1', kernel: '/k/vmlinux', initrd: '/k/initrd.gz', cmdline: 'console=ttyS0 seamless.addr=10.0.1.10/24' };

describe('libvirt lab: the domain XML', () => {
  it('plugs a virtio NIC with checksum offload off into an Open vSwitch bridge, and gives a host agent that follows QEMU a QMP monitor of its own when asked', () => {
    expect(domainXml(SPEC), 'nothing for an agent that follows libvirt').to.not.include('qemu:commandline');
    const xml = domainXml({ ...SPEC, agentMonitor: true });
    expect(xml).to.include("<source bridge='s1'/>").and.include("<virtualport type='openvswitch'/>").and.include("<mac address='02:00:00:00:01:0a'/>");
    expect(xml).to.include("<host csum='off'/><guest csum='off'/>");
    expect(xml).to.include("xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'");
    expect(xml).to.include(`<qemu:arg value='unix:${HOST_DIR}/vm1.agent.qmp,server=on,wait=off'/>`);
    expect(agentPath('vm1', 'agent.qmp')).to.equal(`${HOST_DIR}/vm1.agent.qmp`);
    expect(xml).to.include('<cmdline>console=ttyS0 seamless.addr=10.0.1.10/24</cmdline>');
  });

  it('refuses a value the XML would have to quote', () => {
    expect(() => domainXml({ ...SPEC, name: "vm'1" })).to.throw(LibvirtHostError, /name/);
    expect(() => domainXml({ ...SPEC, cmdline: 'a <b>' })).to.throw(LibvirtHostError, /cmdline/);
    expect(() => domainXml({ ...SPEC, bridge: 's1&x' })).to.throw(LibvirtHostError, /bridge/);
  });
});
