import { expect } from 'chai';
import { CONTROL_PORT_NAME, QemuSpecError, kernelCommandLine, optionValue, qemuArgs, type QemuSpec } from '../../../topologies/qemu/command-line.js';

const SPEC: QemuSpec = {
  name: 'vm#1',
  accel: 'tcg',
  memoryMb: 128,
  kernel: '/cache/vmlinux',
  initrd: '/cache/initramfs.cpio.gz',
  network: { mac: '02:00:00:00:01:0A', address: '10.0.1.10/24', gateway: '10.0.1.1' },
  tap: 'sqab1',
  qmpSocket: '/tmp/x/qmp.sock',
  controlSocket: '/tmp/x/control.sock',
  consoleLog: '/tmp/x/console.log',
};

/** The value following an option (the first occurrence, or the nth). */
function after(args: string[], option: string, nth = 0): string | undefined {
  const indexes = args.flatMap((a, i) => (a === option ? [i] : []));
  const i = indexes[nth];
  return i === undefined ? undefined : args[i + 1];
}

describe('QEMU command line of the lab guest', () => {
  it('attaches virtio-net to the tap with checksum offload off and the VM MAC', () => {
    const args = qemuArgs(SPEC);
    expect(after(args, '-netdev')).to.equal('tap,id=net0,ifname=sqab1,script=no,downscript=no');
    expect(after(args, '-device', 2)).to.equal('virtio-net-pci,id=nic0,netdev=net0,mac=02:00:00:00:01:0a,csum=off,guest_csum=off');
  });

  it('runs TCG with small RAM, no default devices, QMP and the agent port on unix sockets', () => {
    const args = qemuArgs(SPEC);
    expect(after(args, '-machine')).to.equal('pc,accel=tcg');
    expect(after(args, '-cpu')).to.equal('qemu64');
    expect(after(args, '-m')).to.equal('128');
    expect(args).to.include('-nodefaults').and.include('-no-reboot');
    expect(after(args, '-chardev', 1)).to.equal('socket,id=qmp,path=/tmp/x/qmp.sock,server=on,wait=off');
    expect(after(args, '-mon')).to.equal('chardev=qmp,mode=control');
    expect(after(args, '-chardev', 2)).to.equal('socket,id=control,path=/tmp/x/control.sock,server=on,wait=off');
    expect(after(args, '-device', 1)).to.equal(`virtserialport,bus=vser0.0,chardev=control,name=${CONTROL_PORT_NAME}`);
    expect(args).to.not.include('-incoming');
  });

  it('makes a migration destination wait for migrate-incoming, with otherwise identical devices', () => {
    const source = qemuArgs(SPEC);
    const destination = qemuArgs({ ...SPEC, incoming: true });
    expect(destination.slice(-2)).to.deep.equal(['-incoming', 'defer']);
    expect(destination.slice(0, -2)).to.deep.equal(source);
  });

  it('passes the address and gateway on the kernel command line and keeps IPv6 as Linux ships it', () => {
    const line = after(qemuArgs(SPEC), '-append')!;
    expect(line.split(' ')).to.include.members(['console=ttyS0', 'seamless.addr=10.0.1.10/24', 'seamless.gw=10.0.1.1']);
    expect(line).to.not.match(/ipv6/);
    expect(kernelCommandLine({ mac: '02:00:00:00:01:0a', address: '10.0.1.10/24', gateway: null })).to.not.contain('seamless.gw');
    expect(kernelCommandLine(SPEC.network, ['loglevel=7'])).to.match(/ loglevel=7$/);
  });

  it('doubles commas in option values (QEMU would split on them)', () => {
    expect(optionValue('/tmp/a,b/qmp.sock')).to.equal('/tmp/a,,b/qmp.sock');
    expect(after(qemuArgs({ ...SPEC, qmpSocket: '/tmp/a,b/q.sock' }), '-chardev', 1)).to.equal('socket,id=qmp,path=/tmp/a,,b/q.sock,server=on,wait=off');
  });

  it('refuses bad values with a message naming them', () => {
    const bad: Array<[Partial<QemuSpec>, RegExp]> = [
      [{ network: { ...SPEC.network, mac: '02:00:00:00:01' } }, /MAC must look like/],
      [{ network: { ...SPEC.network, mac: '03:00:00:00:01:0a' } }, /multicast/],
      [{ network: { ...SPEC.network, address: '10.0.1.10' } }, /address must be IPv4\/prefix length/],
      [{ network: { ...SPEC.network, address: '10.0.1.300/24' } }, /address must be/],
      [{ network: { ...SPEC.network, gateway: 'router' } }, /gateway must be an IPv4 address/],
      [{ tap: 'a-name-far-too-long' }, /interface name must be 1-15/],
      [{ tap: 'tap;rm' }, /interface name/],
      [{ memoryMb: 16 }, /memoryMb must be an integer between 32 and 4096/],
      [{ accel: 'hvf' as 'tcg' }, /accel must be tcg or kvm/],
      [{ kernelArgs: ['two words'] }, /one printable word/],
      [{ consoleLog: '' }, /invalid QEMU option value/],
    ];
    for (const [change, message] of bad) {
      expect(() => qemuArgs({ ...SPEC, ...change }), JSON.stringify(change)).to.throw(QemuSpecError, message);
    }
  });
});
