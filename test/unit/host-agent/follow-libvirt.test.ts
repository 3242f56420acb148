import FakeTimers from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { followLibvirt } from '../../../controller/host-agent/follow-libvirt.js';
import type { LibvirtEvent } from '../../../controller/host-agent/libvirt-events.js';

/** One libvirt daemon as virsh shows it: events pushed by the test, domiflist and domjobinfo answered from its state. */
class FakeLibvirt {
  listener: ((e: LibvirtEvent) => void) | undefined;
  readonly commands: string[] = [];
  /** A domain's MACs; its job: none, or a migration through `total` bytes at 1 byte/ms from `jobStart`. */
  readonly domains = new Map<string, { macs: string[]; jobStart?: number; total: number; memoryKiB?: number; running?: boolean }>();
  events = (onEvent: (e: LibvirtEvent) => void) => { this.listener = onEvent; return () => { this.listener = undefined; }; };
  virsh = (command: string): Promise<string> => {
    this.commands.push(command);
    if (command === 'list --state-running --name') return Promise.resolve(`${[...this.domains].filter(([, d]) => d.running === true).map(([name]) => `${name}\n`).join('')}\n`);
    const name = /'((?:[^']|'\\'')*)'/.exec(command)?.[1]?.replaceAll("'\\''", "'") ?? '';
    const domain = this.domains.get(name);
    if (domain === undefined) return Promise.reject(new Error(`error: failed to get domain '${name}'`));
    if (command.startsWith('domiflist ')) return Promise.resolve(` Interface Type Source Model MAC\n---\n${domain.macs.map((m, i) => ` vnet${i} bridge br virtio ${m}\n`).join('')}`);
    if (command.startsWith('dominfo ')) {
      const kib = domain.memoryKiB ?? Math.ceil(domain.total / 1024);
      return Promise.resolve(`Id:             1\nName:           ${name}\nState:          running\nMax memory:     ${kib} KiB\nUsed memory:    ${kib} KiB\n`);
    }
    if (command.startsWith('domjobinfo ')) {
      if (domain.jobStart === undefined) return Promise.resolve('Job type: 0\n\n');
      const remaining = Math.max(0, domain.total - (Date.now() - domain.jobStart));
      return Promise.resolve(`Job type: 2\n\noperation: 5\nmemory_total: ${domain.total}\nmemory_remaining: ${remaining}\nmemory_iteration: 1\n`);
    }
    return Promise.reject(new Error(`unexpected ${command}`));
  };
  emit(domain: string, type: string, detail: string): void {
    this.listener?.({ at: Date.now(), type, domain, detail });
  }
}

describe('host-agent/follow-libvirt', () => {
  let clock: ReturnType<typeof FakeTimers.install>;
  const sleep = (ms: number) => clock.tickAsync(ms);
  beforeEach(() => { clock = FakeTimers.install({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] }); });
  afterEach(() => clock.uninstall());

  const follow = (libvirt: FakeLibvirt, options: { readonly fastPassBytesPerMs?: number } = { fastPassBytesPerMs: 0 }) => {
    const said: string[] = [];
    const errors: string[] = [];
    const stop = followLibvirt({
      events: libvirt.events, virsh: libvirt.virsh,
      onSignal: (domain, macs, s) => said.push(`${domain} ${macs.join(',')} ${s.kind}@${s.at - 1_000_000}`),
      onError: (domain, e) => errors.push(`${domain}: ${e.message}`),
      follow: { copyLeadMs: 300, pollMs: 20, ...options },
    });
    return { said, errors, stop };
  };

  it('a source domain: migrating at iteration 1, converging from its job about the lead before the pass ends, stopping at Suspended Migrated, resumed when libvirt stops it', async () => {
    const host = new FakeLibvirt();
    host.domains.set('web', { macs: ['02:00:00:00:01:0a', '02:00:00:00:01:0b'], total: 1000 });
    const { said, errors, stop } = follow(host);
    host.emit('web', 'lifecycle', 'Started Booted');
    await sleep(1000);
    expect(host.commands.filter((c) => c.startsWith('domjobinfo')), 'no job read outside a migration').to.deep.equal([]);
    host.domains.get('web')!.jobStart = Date.now();
    host.emit('web', 'migration-iteration', "iteration: '1'");
    await sleep(800);
    host.emit('web', 'migration-iteration', "iteration: '2'");
    host.emit('web', 'lifecycle', 'Suspended Migrated');
    await sleep(100);
    const reads = host.commands.filter((c) => c.startsWith('domjobinfo')).length;
    expect(reads, 'read every 20 ms until the stop').to.equal(40);
    await sleep(2000);
    host.domains.get('web')!.jobStart = undefined;
    host.emit('web', 'lifecycle', 'Stopped Migrated');
    await sleep(1);
    const macs = '02:00:00:00:01:0a,02:00:00:00:01:0b';
    expect(said).to.deep.equal([`web ${macs} migrating@1000`, `web ${macs} converging@1700`, `web ${macs} stopping@1800`, `web ${macs} resumed@3900`]);
    expect(host.commands.filter((c) => c.startsWith('domjobinfo')).length, 'none after the stop').to.equal(reads);
    expect(host.commands.filter((c) => c.startsWith('domiflist')), 'the MACs read once').to.deep.equal(["domiflist 'web'"]);
    expect(errors).to.deep.equal([]);
    stop();
  });

  it('a domain whose memory the first pass may go through within the lead (dominfo, read when followed) is copied from its migration\'s start', async () => {
    const host = new FakeLibvirt();
    host.domains.set('small', { macs: ['02:00:00:00:01:0a'], total: 128 << 20, memoryKiB: 128 * 1024 });
    host.domains.set('large', { macs: ['02:00:00:00:01:0b'], total: 4096 * 2 ** 20, memoryKiB: 4096 * 1024 });
    const { said, errors, stop } = follow(host, {}); // the default floor: 300 ms x 2 GB/s = 600 MB
    host.emit('small', 'lifecycle', 'Started Booted');
    host.emit('large', 'lifecycle', 'Started Booted');
    await sleep(100);
    expect(host.commands.filter((c) => c.startsWith('dominfo')), 'each domain\'s size read once').to.deep.equal(["dominfo 'small'", "dominfo 'large'"]);
    for (const domain of ['small', 'large']) {
      host.domains.get(domain)!.jobStart = Date.now();
      host.emit(domain, 'migration-iteration', "iteration: '1'");
    }
    await sleep(1);
    expect(said.filter((l) => l.startsWith('small ')), 'the small one: converging with migrating').to.deep.equal(['small 02:00:00:00:01:0a migrating@100', 'small 02:00:00:00:01:0a converging@100']);
    expect(said.filter((l) => l.startsWith('large ')), 'the large one: its progress decides').to.deep.equal(['large 02:00:00:00:01:0b migrating@100']);
    expect(errors).to.deep.equal([]);
    stop();
  });

  it('follows the domains that run when it starts: their size and MACs are read before their first event', async () => {
    const host = new FakeLibvirt();
    host.domains.set('old', { macs: ['02:00:00:00:01:0a'], total: 128 << 20, memoryKiB: 128 * 1024, running: true });
    host.domains.set('off', { macs: ['02:00:00:00:01:0b'], total: 128 << 20, memoryKiB: 128 * 1024 });
    const { said, errors, stop } = follow(host, {});
    await sleep(10);
    expect(host.commands).to.deep.equal(['list --state-running --name', "dominfo 'old'", "domiflist 'old'"]);
    host.domains.get('old')!.jobStart = Date.now();
    host.emit('old', 'migration-iteration', "iteration: '1'");
    await sleep(0);
    expect(said, 'copied from the start: its size was known').to.deep.equal(['old 02:00:00:00:01:0a migrating@10', 'old 02:00:00:00:01:0a converging@10']);
    expect(errors).to.deep.equal([]);
    stop();
  });

  it('a destination: nothing from its incoming migration but resumed at Resumed Migrated; then it is the source of the next', async () => {
    const host = new FakeLibvirt();
    host.domains.set('web', { macs: ['02:00:00:00:01:0a'], total: 100 });
    const { said, stop } = follow(host);
    host.emit('web', 'lifecycle', 'Started Migrated');
    host.emit('web', 'lifecycle', 'Defined Added');
    await sleep(300);
    host.emit('web', 'lifecycle', 'Resumed Migrated');
    await sleep(1);
    expect(said).to.deep.equal(['web 02:00:00:00:01:0a resumed@300']);
    host.domains.get('web')!.jobStart = Date.now();
    host.emit('web', 'migration-iteration', "iteration: '1'");
    await sleep(5);
    expect(said.at(-1)).to.equal('web 02:00:00:00:01:0a migrating@301');
    stop();
  });

  it('a migration called off: before its stop its job\'s end says so; after its stop, the source resumes', async () => {
    const host = new FakeLibvirt();
    host.domains.set('web', { macs: ['02:00:00:00:01:0a'], total: 1_000_000 });
    const { said, stop } = follow(host);
    host.domains.get('web')!.jobStart = Date.now();
    host.emit('web', 'migration-iteration', "iteration: '1'");
    await sleep(200);
    host.domains.get('web')!.jobStart = undefined; // virsh domjobabort
    await sleep(40);
    expect(said.map((s) => s.split(' ')[2]!.split('@')[0])).to.deep.equal(['migrating', 'called-off']);
    const reads = host.commands.length;
    await sleep(200);
    expect(host.commands.length, 'no reads once called off').to.equal(reads);

    host.domains.get('web')!.jobStart = Date.now();
    host.emit('web', 'migration-iteration', "iteration: '1'");
    host.emit('web', 'lifecycle', 'Suspended Migrated');
    host.emit('web', 'lifecycle', 'Resumed Unpaused');
    await sleep(1);
    expect(said.map((s) => s.split(' ')[2]!.split('@')[0]).slice(2)).to.deep.equal(['migrating', 'stopping', 'called-off']);
    stop();
  });

  it('forgets a domain that stops; quotes names for virsh; a domain without MACs is said with none and asked again', async () => {
    const host = new FakeLibvirt();
    const { said, errors, stop } = follow(host);
    host.domains.set("it's 1", { macs: [], total: 10 });
    host.emit("it's 1", 'lifecycle', 'Started Booted');
    host.emit("it's 1", 'migration-iteration', "iteration: '1'");
    await sleep(1);
    expect(said).to.deep.equal(["it's 1  migrating@0"]);
    host.domains.get("it's 1")!.macs.push('02:00:00:00:01:0c');
    host.emit("it's 1", 'lifecycle', 'Suspended Migrated');
    await sleep(1);
    expect(said.at(-1)).to.equal("it's 1 02:00:00:00:01:0c stopping@1");
    expect(host.commands).to.include("domiflist 'it'\\''s 1'");
    host.emit("it's 1", 'lifecycle', 'Stopped Destroyed');
    host.emit('gone', 'lifecycle', 'Undefined Removed');
    await sleep(100);
    host.emit("it's 1", 'lifecycle', 'Resumed Unpaused');
    await sleep(1);
    expect(said, 'a stopped domain is followed afresh').to.have.length(2);
    expect(host.commands.filter((c) => c.includes('gone')), 'a domain never followed is not asked about when it goes').to.deep.equal([]);
    expect(errors).to.deep.equal([]);
    stop();
  });
});
