/**
 * The QEMU command line of a lab guest, built from a typed spec (pure; validated, so that a bad value
 * is a clear error here and not a cryptic one from QEMU).
 *
 * The source and the destination of a live migration run the same command line but for their own
 * sockets, tap and console log, plus `-incoming defer` on the destination: QEMU needs identical
 * devices on both sides.
 */

export type Accel = 'tcg' | 'kvm';

export interface GuestNetwork {
  /** The VM's MAC (the EID's): 02:00:00:00:01:0a. */
  readonly mac: string;
  /** The VM's address with its prefix length: 10.0.1.10/24. */
  readonly address: string;
  /** Default gateway, or null for none. */
  readonly gateway: string | null;
}

export interface QemuSpec {
  /** Shown by `ps` and in QEMU's messages. */
  readonly name: string;
  readonly accel: Accel;
  readonly memoryMb: number;
  readonly kernel: string;
  readonly initrd: string;
  readonly network: GuestNetwork;
  /** An existing tap (the driver creates it and adds it to the bridge before QEMU starts). */
  readonly tap: string;
  readonly qmpSocket: string;
  /** The guest agent's virtio-serial port (topologies/qemu/guest/agent.c). */
  readonly controlSocket: string;
  /** The guest's serial console, for diagnostics. */
  readonly consoleLog: string;
  /** A migration destination: wait for `migrate-incoming`. */
  readonly incoming?: boolean;
  /** Extra kernel command-line words. */
  readonly kernelArgs?: readonly string[];
}

/** The name the guest agent looks for among virtio-serial ports. */
export const CONTROL_PORT_NAME = 'org.seamless.control';

/**
 * What the lab guest is booted with. `quiet` keeps the console short; `mitigations=off`,
 * `tsc=reliable` and `no_timer_check` cut a TCG boot by seconds and change nothing on the network.
 */
const BASE_KERNEL_ARGS = ['console=ttyS0', 'quiet', 'panic=-1', 'mitigations=off', 'tsc=reliable', 'no_timer_check'];

export class QemuSpecError extends Error {
  override name = 'QemuSpecError';
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Linux interface names: at most 15 bytes; kept to characters no tool needs to quote. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function validateMac(mac: string): string {
  if (!MAC.test(mac)) throw new QemuSpecError(`MAC must look like 02:00:00:00:01:0a, got ${JSON.stringify(mac)}`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new QemuSpecError(`MAC ${mac} is a multicast address`);
  return mac.toLowerCase();
}

export function validateIfname(name: string): string {
  if (!IFNAME.test(name)) throw new QemuSpecError(`interface name must be 1-15 of [A-Za-z0-9_.-], got ${JSON.stringify(name)}`);
  return name;
}

export function validateNetwork(network: GuestNetwork): GuestNetwork {
  const [ip, length, ...rest] = network.address.split('/');
  if (!ip || !IPV4.test(ip) || length === undefined || !/^\d{1,2}$/.test(length) || Number(length) > 32 || rest.length > 0) {
    throw new QemuSpecError(`address must be IPv4/prefix length like 10.0.1.10/24, got ${JSON.stringify(network.address)}`);
  }
  if (network.gateway !== null && !IPV4.test(network.gateway)) {
    throw new QemuSpecError(`gateway must be an IPv4 address, got ${JSON.stringify(network.gateway)}`);
  }
  return { mac: validateMac(network.mac), address: network.address, gateway: network.gateway };
}

/** The kernel command line: the lab's base words, the guest's address and gateway for its /init. */
export function kernelCommandLine(network: GuestNetwork, extra: readonly string[] = []): string {
  for (const word of extra) {
    if (!/^[\x21-\x7e]+$/.test(word)) throw new QemuSpecError(`kernel argument must be one printable word, got ${JSON.stringify(word)}`);
  }
  const words = [...BASE_KERNEL_ARGS, `seamless.addr=${network.address}`];
  if (network.gateway !== null) words.push(`seamless.gw=${network.gateway}`);
  return [...words, ...extra].join(' ');
}

/** QEMU option values separate key=value pairs with commas; a comma inside a value is doubled. */
export function optionValue(value: string): string {
  if (value === '' || /[\0\n]/.test(value)) throw new QemuSpecError(`invalid QEMU option value ${JSON.stringify(value)}`);
  return value.replaceAll(',', ',,');
}

export function qemuArgs(spec: QemuSpec): string[] {
  const network = validateNetwork(spec.network);
  const tap = validateIfname(spec.tap);
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 32 || spec.memoryMb > 4096) {
    throw new QemuSpecError(`memoryMb must be an integer between 32 and 4096, got ${spec.memoryMb}`);
  }
  if (spec.accel !== 'tcg' && spec.accel !== 'kvm') throw new QemuSpecError(`accel must be tcg or kvm, got ${String(spec.accel)}`);
  const args = [
    '-name', `guest=${optionValue(spec.name)}`,
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-machine', `pc,accel=${spec.accel}`,
    // qemu64 boots faster under TCG than `max`; KVM here takes the host's CPU model.
    '-cpu', spec.accel === 'kvm' ? 'host' : 'qemu64',
    '-smp', '1',
    '-m', String(spec.memoryMb),
    '-kernel', spec.kernel,
    '-initrd', spec.initrd,
    '-append', kernelCommandLine(network, spec.kernelArgs),
    '-chardev', `file,id=console,path=${optionValue(spec.consoleLog)}`,
    '-serial', 'chardev:console',
    '-chardev', `socket,id=qmp,path=${optionValue(spec.qmpSocket)},server=on,wait=off`,
    '-mon', 'chardev=qmp,mode=control',
    '-device', 'virtio-serial-pci,id=vser0',
    '-chardev', `socket,id=control,path=${optionValue(spec.controlSocket)},server=on,wait=off`,
    '-device', `virtserialport,bus=vser0.0,chardev=control,name=${CONTROL_PORT_NAME}`,
    '-netdev', `tap,id=net0,ifname=${tap},script=no,downscript=no`,
    // Checksum offload off: the userspace datapath forwards partial checksums as they are (docs/qemu-lab.md).
    '-device', `virtio-net-pci,id=nic0,netdev=net0,mac=${network.mac},csum=off,guest_csum=off`,
  ];
  if (spec.incoming) args.push('-incoming', 'defer');
  return args;
}
