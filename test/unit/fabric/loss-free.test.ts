// Loss-free migration with the real runtime: from the hypervisor's "stopping" until the VM's first
// frame at its new place, frames for it wait at the controller and are then delivered there, in
// order, before newer ones; bounded; and given back if the VM never moves.

import { expect } from 'chai';
import { DEFAULT_BUFFER_LIMITS, MAX_BURST, PACED_BURST_MS, PACED_REPLAY_RATE as REPLAY_RATE, REPLAY_BEFORE_STOP_MS } from '../../../controller/fabric/buffers.js';
import { LAG_SPREAD, TRUSTED_SAMPLES, UNREAD_MARGIN } from '../../../controller/fabric/port-reads.js';
import { FabricLab } from '../../lib/fabric-lab.js';
import type { SlowTap } from '../../lib/fake-switches.js';
import { VM } from '../mobility/fixtures.js';

/** Frames wait at the controller until the VM is known to run (the default; a destination port here would drop them). */
const HELD_HERE = { fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, queueAtDestination: false } } };
/** The same, the held frames handed out at a rate (5,000 a second: 10 every 2 ms). */
const PACED = { fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, queueAtDestination: false, replayFramesPerSec: REPLAY_RATE } } };
/** The same, the held frames handed out as fast as the switch confirms them (no replay rate). */
const UNPACED = { fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, queueAtDestination: false, replayFramesPerSec: 0 } } };
const tags = (lab: FabricLab, prefix: string) => lab.vm.inbox.filter((f) => (f.tag ?? '').startsWith(prefix)).map((f) => f.tag);

describe('fabric: loss-free migration (buffering during the stop-and-copy)', function () {
  this.timeout(30_000);

  for (const [label, first, second] of [
    ['home -> B', { dpid: 2n, port: 3 }, undefined],
    ['B -> C (buffered at an away edge, locator rewritten back)', { dpid: 2n, port: 3 }, { dpid: 3n, port: 4 }],
  ] as const) {
    it(`${label}: every frame sent during the pause reaches the VM at its new place, in order, before newer ones`, async () => {
      const lab = await FabricLab.create();
      expect(await lab.allExchanges('warm')).to.deep.equal([]);
      let to: { dpid: bigint; port: number } = first;
      if (second !== undefined) {
        await lab.migrate(first);
        await lab.settle();
        await lab.advance(600);
        to = second;
      }
      const peers = [lab.cnA, lab.cnB, lab.cnC, lab.ext];
      let n = 0;
      await lab.migrate(to, {
        stopping: true, pauseMs: 100,
        duringPause: () => { for (let i = 0; i < 5; i++) for (const p of peers) lab.net.send(p, VM.eid, `paused-${p.name}-${n++}`); },
      });
      await lab.settle();
      for (const p of peers) lab.net.send(p, VM.eid, `after-${p.name}`);
      await lab.settle();
      const got = tags(lab, 'paused-');
      expect(got, 'none lost').to.have.length(20);
      for (const p of peers) {
        const mine = got.filter((t) => t!.startsWith(`paused-${p.name}-`));
        expect(mine, `${p.name}'s frames in their order`).to.deep.equal([...mine].sort((a, b) => Number(a!.split('-').at(-1)) - Number(b!.split('-').at(-1))));
      }
      const order = lab.vm.inbox.map((f) => f.tag ?? '');
      const lastPaused = Math.max(...order.map((t, i) => (t.startsWith('paused-') ? i : -1)));
      const firstAfter = order.findIndex((t) => t.startsWith('after-'));
      expect(firstAfter, 'newer frames after the buffered ones').to.be.greaterThan(lastPaused);
      for (const f of lab.vm.inbox.filter((x) => (x.tag ?? '').startsWith('paused-'))) expect(f).to.deep.include({ ipv4_dst: VM.eid, eth_dst: VM.mac });
      expect(lab.fabric.buffers.counters).to.deep.include({ buffered: 20, delivered: 20, dropped: 0 });
      await lab.advance(2000);
      expect(lab.table(to.dpid === 2n ? 1n : 2n).flows().filter((f) => f.priority === 110 || f.priority === 320), 'buffer rules gone').to.deep.equal([]);
      expect(lab.leaks()).to.deep.equal([]);
      lab.stop();
    });
  }

  it('frames that reach the controller while the move is being applied queue behind the held ones', async () => {
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    let n = 0;
    const sub = lab.fabric.events$.subscribe((e) => {
      // The move is committed and its rules go out now: the VM's old rules still send to the controller.
      if (e.type === 'BINDING_MOVED') setImmediate(() => { for (let i = 0; i < 5; i++) lab.net.send(lab.cnB, VM.eid, `late-${i}`); });
    });
    await lab.migrate({ dpid: 2n, port: 3 }, { stopping: true, duringPause: () => { for (let i = 0; i < 5; i++) lab.net.send(lab.cnB, VM.eid, `paused-${n++}`); } });
    await lab.settle();
    sub.unsubscribe();
    const order = lab.vm.inbox.map((f) => f.tag ?? '').filter((t) => t.startsWith('paused-') || t.startsWith('late-'));
    expect(order).to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3', 'paused-4', 'late-0', 'late-1', 'late-2', 'late-3', 'late-4']);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('beyond its bound the buffer drops and counts; what it held still arrives', async () => {
    const lab = await FabricLab.create({ fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, maxFrames: 8, maxBytes: 1 << 20, maxAgeMs: 5000 } } });
    expect(await lab.allExchanges('warm'), 'a stream runs: everyone knows the VM').to.deep.equal([]);
    let n = 0;
    await lab.migrate({ dpid: 2n, port: 3 }, { stopping: true, duringPause: () => { for (let i = 0; i < 20; i++) lab.net.send(lab.cnB, VM.eid, `paused-${n++}`); } });
    await lab.settle();
    expect(tags(lab, 'paused-')).to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3', 'paused-4', 'paused-5', 'paused-6', 'paused-7']);
    expect(lab.fabric.buffers.counters).to.deep.include({ buffered: 8, delivered: 8, dropped: 12 });
    const metric = async (name: string) => (await lab.fabric.metrics.registry.getSingleMetric(name)!.get()).values[0]?.value;
    expect(await metric('seamless_buffer_dropped_frames_total'), 'the drops are on /metrics').to.equal(12);
    expect(await metric('seamless_buffer_delivered_frames_total')).to.equal(8);
    expect(await metric('seamless_buffer_frames'), 'nothing waits any more').to.equal(0);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('a stop that no move follows (the migration failed, the source resumed): the frames go back to the VM, the buffer rules go', async () => {
    const lab = await FabricLab.create({ fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, maxFrames: 1000, maxBytes: 1 << 20, maxAgeMs: 1000 } } });
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    const stopping = lab.fabric.phases.stopping(VM.eid);
    await lab.settle(200, 5);
    expect(await stopping).to.equal(true);
    lab.vm.paused = true;
    for (let i = 0; i < 5; i++) lab.net.send(lab.cnB, VM.eid, `held-${i}`);
    await lab.advance(300);
    lab.vm.paused = false; // the source resumes where it was
    await lab.advance(1200);
    await lab.settle();
    expect(tags(lab, 'held-')).to.deep.equal(['held-0', 'held-1', 'held-2', 'held-3', 'held-4']);
    expect(lab.fabric.buffers.counters.expired).to.equal(1);
    await lab.advance(2000);
    expect(lab.table(1n).flows(3).filter((f) => f.priority === 110), 'buffer rule gone').to.deep.equal([]);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });
});

describe('fabric: loss-free migration with a host agent (copy, move ahead, resume)', function () {
  this.timeout(30_000);
  const peers = (lab: FabricLab) => [lab.cnA, lab.cnB, lab.cnC, lab.ext];
  const bufferRules = (lab: FabricLab) => lab.perBindingFlows().filter((f) => (f.table === 3 && f.priority === 110) || (f.table === 2 && f.priority === 320));

  /** The VM stops now: paused, its link moved to `to` (the old port stays up), the agent told (stoppedAt: now) after `signalDelayMs`. */
  async function stopAndMove(lab: FabricLab, to: { dpid: bigint; port: number }, sendDuring: () => void, signalDelayMs = 0, beforeSignal?: () => Promise<void>): Promise<void> {
    const stoppedAt = lab.clock.now();
    lab.vm.paused = true;
    lab.net.move(lab.vm, to, { keepOldPort: true });
    lab.switches.portStatus(to.dpid, to.port, 'add');
    sendDuring();
    if (signalDelayMs > 0) await lab.advance(signalDelayMs);
    await beforeSignal?.();
    await lab.signal('stopping', { stoppedAt });
  }

  it('the destination known, the move is made at the stop; what waited reaches the VM when it runs there, first, and its own frames go out at once', async () => {
    const lab = await FabricLab.create(HELD_HERE);
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { toDpid: 2n, toPort: 3, lossFree: true });
    let n = 0;
    const burst = (prefix: string) => { for (const p of peers(lab)) for (let i = 0; i < 3; i++) lab.net.send(p, VM.eid, `${prefix}-${p.name}-${n++}`); };
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => burst('paused'));
    expect(lab.binding.locator, 'moved ahead of the resume').to.deep.include({ dpid: 2n, port: 3 });
    const ahead = lab.fabric.migrations.list().at(-1)!;
    expect(ahead).to.include({ trigger: 'signal', reason: 'intent' });
    expect(ahead.plannedAhead, 'staged at migrating, held at the stop: its rules changed since, so it was planned again').to.equal(false);
    burst('paused');
    await lab.settle();
    expect(tags(lab, 'paused-'), 'nothing reaches the stopped VM').to.deep.equal([]);
    await lab.advance(100);
    lab.vm.paused = false;
    lab.net.send(lab.vm, lab.cnB.ip, 'first-out');
    await lab.settle();
    expect(lab.net.lastIp(lab.cnB, 'first-out'), 'the send side was ready before the VM ran').to.deep.include({ ipv4_src: VM.eid, ipv4_dst: lab.cnB.ip });
    await lab.signal('resumed');
    for (const p of peers(lab)) lab.net.send(p, VM.eid, `after-${p.name}`);
    await lab.settle();
    const got = tags(lab, 'paused-');
    expect(got, 'none lost, none twice').to.have.length(24);
    expect(new Set(got).size).to.equal(24);
    const order = lab.vm.inbox.map((f) => f.tag ?? '');
    expect(order.findIndex((t) => t.startsWith('after-')), 'newer frames after the ones that waited').to.be.greaterThan(Math.max(...order.map((t, i) => (t.startsWith('paused-') ? i : -1))));
    for (const p of peers(lab)) {
      const mine = got.filter((t) => t!.startsWith(`paused-${p.name}-`)).map((t) => Number(t!.split('-').at(-1)));
      expect(mine, `${p.name}'s frames in their order`).to.deep.equal([...mine].sort((a, b) => a - b));
    }
    expect(lab.events.filter((e) => e.type === 'VM_RESUMED')).to.have.length(1).and.to.satisfy((es: { trigger: string; frames: number }[]) => es[0]!.trigger === 'resumed' && es[0]!.frames === 24);
    expect(bufferRules(lab).filter((f) => f.dpid === 2n), 'the hold rules at its new edge went at once').to.deep.equal([]);
    expect(lab.fabric.migrations.list().at(-1), 'one move, no second one at the VM\'s announce').to.equal(ahead);
    lab.announce('both');
    await lab.settle();
    expect(lab.fabric.migrations.list()).to.have.length(1);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    expect(lab.leaks()).to.deep.equal([]);
    await lab.advance(2000);
    expect(bufferRules(lab), 'and the old edge\'s after the grace period').to.deep.equal([]);
    lab.stop();
  });

  for (const [trigger, resume] of [
    ['first frame', (lab: FabricLab) => { lab.announce('garp'); }],
    ['first frame', (lab: FabricLab) => { lab.announce('rarp'); }],
    ['port up', (lab: FabricLab) => { lab.switches.portStatus(2n, 3, 'up'); }],
  ] as const) {
    it(`moved ahead, without a resumed signal: the VM's ${trigger} at its new port says it runs`, async () => {
      const lab = await FabricLab.create(HELD_HERE);
      expect(await lab.allExchanges('warm')).to.deep.equal([]);
      await lab.signal('migrating', { toDpid: 2n, toPort: 3 });
      await stopAndMove(lab, { dpid: 2n, port: 3 }, () => undefined);
      for (let i = 0; i < 5; i++) lab.net.send(lab.cnC, VM.eid, `paused-${i}`);
      await lab.advance(100);
      lab.vm.paused = false;
      resume(lab);
      await lab.settle();
      expect(tags(lab, 'paused-')).to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3', 'paused-4']);
      expect(lab.events.find((e) => e.type === 'VM_RESUMED')).to.include({ trigger, frames: 5 });
      expect(await lab.allExchanges('after')).to.deep.equal([]);
      lab.stop();
    });
  }

  it('moved ahead home, the destination port\'s "down" status arriving after the move (the tap joined the bridge while the VM was stopped): its frames still go out when it runs', async () => {
    const lab = await FabricLab.create(HELD_HERE);
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.migrate({ dpid: 2n, port: 3 });
    await lab.settle();
    await lab.advance(2000);
    expect(await lab.allExchanges('away')).to.deep.equal([]);
    // Home again, loss-free: the move is made at the stop; the switch reports the home port (the tap,
    // added while the VM is stopped, so down) only after that, as a hypervisor's slow OVSDB transaction does.
    await lab.signal('migrating', { toDpid: 1n, toPort: 3, lossFree: true });
    const stoppedAt = lab.clock.now();
    lab.vm.paused = true;
    lab.net.move(lab.vm, { dpid: 1n, port: 3 }, { keepOldPort: true });
    await lab.signal('stopping', { stoppedAt });
    await lab.settle();
    expect(lab.binding.locator, 'moved ahead, home').to.deep.include({ dpid: 1n, port: 3 });
    lab.switches.portStatus(1n, 3, 'down');
    for (let i = 0; i < 3; i++) lab.net.send(lab.cnB, VM.eid, `paused-${i}`);
    await lab.settle();
    await lab.advance(100);
    lab.vm.paused = false;
    lab.switches.portStatus(1n, 3, 'up');
    await lab.settle();
    expect(tags(lab, 'paused-')).to.deep.equal(['paused-0', 'paused-1', 'paused-2']);
    for (const peer of peers(lab)) lab.net.send(lab.vm, peer.ip, `ack-${peer.name}`);
    await lab.settle();
    for (const peer of peers(lab)) expect(lab.net.lastIp(peer, `ack-${peer.name}`), `the VM's frames to ${peer.name} at once`).to.deep.include({ ipv4_src: VM.eid, ipv4_dst: peer.ip });
    await lab.advance(3000);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  /**
   * Moved ahead to s2:3 with `total` frames waiting (default: more than two bursts), then resumed
   * with s2's barriers held: each burst waits for the switch's confirmation of the one before.
   * Unpaced unless `options` say otherwise (the bursts are then MAX_BURST frames). With `perMs`, the
   * frames come during the stop at that many a millisecond (otherwise all at once, at the stop).
   */
  async function resumeWithBarriersHeld(
    total = 2 * MAX_BURST + 100,
    { options = UNPACED, holdBarriers = true, perMs, beforeResume }: { options?: Parameters<typeof FabricLab.create>[0]; holdBarriers?: boolean; perMs?: number; beforeResume?: (lab: FabricLab) => void } = {},
  ): Promise<{ lab: FabricLab; total: number; resumed: Promise<unknown> }> {
    const lab = await FabricLab.create(options);
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { toDpid: 2n, toPort: 3, lossFree: true });
    const send = (from: number, to: number) => { for (let i = from; i < to; i++) lab.net.send(lab.cnB, VM.eid, `paused-${i}`); };
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => { if (perMs === undefined) send(0, total); });
    for (let i = 0; perMs !== undefined && i < total; i += perMs) {
      send(i, Math.min(total, i + perMs));
      await lab.advance(1);
    }
    await lab.settle();
    beforeResume?.(lab);
    lab.vm.paused = false;
    lab.sw(2n).holdBarriers = holdBarriers;
    const intent = lab.intents.register({ eid: VM.eid, phase: 'resumed', expiresAt: lab.clock.now() + 30_000 }, lab.clock.now());
    if (!intent.ok) throw new Error(intent.error);
    const resumed = lab.fabric.phases.onIntent(intent.intent);
    if (holdBarriers) await lab.settle();
    return { lab, total, resumed };
  }

  /** How many frames whose tag matches the VM has after each of the next `ms` milliseconds (`each`: before each one). */
  async function arrivals(lab: FabricLab, ms: number, match = /^paused-/, each?: (ms: number) => void): Promise<number[]> {
    const counts: number[] = [];
    for (let i = 0; i < ms; i++) {
      each?.(i);
      await lab.advance(1);
      counts.push(lab.vm.inbox.filter((f) => match.test(f.tag ?? '')).length);
    }
    return counts;
  }

  it('the held frames, and those that came during their replay, go out at a replay rate (5,000 a second: 10 every 2 ms) even when the switch confirms at once, in order, before newer ones', async () => {
    // A real guest's tap queues 1,000 frames until the just-resumed guest reads: a thousand at once
    // overflowed it, and the stragglers handed out at once after a paced replay still did.
    const perBurst = (REPLAY_RATE * PACED_BURST_MS) / 1000;
    const total = 20 * perBurst + 7;
    // They came at 1 a millisecond, a fifth of the replay rate.
    const { lab, resumed } = await resumeWithBarriersHeld(total, { options: PACED, holdBarriers: false, perMs: 1 });
    // During the replay, stragglers reach the hold rules at 0.3 times the replay rate, and queue behind it.
    const stragglers = 120;
    const perTwoMs = Math.round(0.3 * perBurst);
    let sent = 0;
    const straggle = (ms: number) => { if (ms % 2 === 0) for (let i = 0; i < perTwoMs && sent < stragglers; i++) lab.net.send(lab.cnB, VM.eid, `straggler-${sent++}`); };
    const counts = await arrivals(lab, 100, /^(paused-|straggler-)/, straggle);
    expect(counts[counts.length - 1], 'all of them in the end').to.equal(total + stragglers);
    expect(counts[0], 'one burst at first').to.equal(perBurst);
    const windows = (ms: number) => counts.slice(ms).map((c, i) => c - counts[i]!);
    expect(Math.max(...windows(PACED_BURST_MS)), `one burst per ${PACED_BURST_MS} ms (the held frames' last burst and the stragglers' first share one)`).to.be.at.most(2 * perBurst);
    const bound = (REPLAY_RATE * 10) / 1000 + perBurst;
    expect(Math.max(...windows(10)), `never more than ${bound} in 10 ms, stragglers included`).to.be.at.most(bound);
    const done = counts.indexOf(total + stragglers) + 1;
    expect(done, 'spread over (frames / rate) ms').to.be.at.least(Math.floor(((total + stragglers) * 1000) / REPLAY_RATE) - 1);
    lab.net.send(lab.cnB, VM.eid, 'after');
    await lab.settle();
    await resumed;
    const order = lab.vm.inbox.map((f) => f.tag).filter((t) => t !== undefined && /^(paused-|straggler-|after)/.test(t));
    expect(order, 'none lost, none twice, in order: the held ones, the stragglers, then the newer one').to.deep.equal([
      ...Array.from({ length: total }, (_, i) => `paused-${i}`), ...Array.from({ length: stragglers }, (_, i) => `straggler-${i}`), 'after',
    ]);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  it('a stream that keeps coming at a resuming VM faster than the replay rate cannot keep its hold: the replay catches up, the hold ends, nothing lost or reordered', async () => {
    const total = 300;
    const { lab, resumed } = await resumeWithBarriersHeld(total, { options: PACED, holdBarriers: false, perMs: 1 });
    // 1.6 times the replay rate for 300 ms, from the resume on.
    const perMs = Math.round((1.6 * REPLAY_RATE) / 1000);
    let sent = 0;
    let heldUntil: number | undefined;
    let ended = false;
    resumed.then(() => { ended = true; }, () => undefined); // the hold ends: its frames out, its rules gone
    for (let ms = 0; ms < 300; ms++) {
      for (let i = 0; i < perMs; i++) lab.net.send(lab.cnB, VM.eid, `stream-${sent++}`);
      await lab.advance(1);
      if (heldUntil === undefined && ended) heldUntil = ms;
    }
    await resumed;
    expect(heldUntil, 'the hold rules went while the stream still ran').to.not.equal(undefined);
    // The held frames alone take total / rate; what queued meanwhile goes at twice the stream's rate.
    const bound = (2.5 * total * 1000) / REPLAY_RATE;
    expect(heldUntil!, `within about ${bound} ms of the resume (the stream runs 300)`).to.be.below(bound);
    await lab.settle();
    const order = lab.vm.inbox.map((f) => f.tag).filter((t) => t !== undefined && /^(paused-|stream-)/.test(t));
    expect(order, 'none lost, none twice, in order').to.deep.equal([
      ...Array.from({ length: total }, (_, i) => `paused-${i}`), ...Array.from({ length: sent }, (_, i) => `stream-${i}`),
    ]);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  /**
   * A stop's frames (1,300, at 2 a millisecond) replayed into a tap of `capacity` frames in front of
   * s2:3 whose guest starts reading `lateMs` after the resume, `perMs` frames a millisecond; the
   * replay is watched at the port (`backlog` frames at most) or not (0). What the VM got, in order,
   * and what the tap dropped.
   */
  async function replayIntoSlowTap(backlog: number, { capacity = 1000, lateMs = 300, perMs = 2, everyMs = 1, total = 1300, forMs = 5000 } = {}) {
    let tap: SlowTap | undefined;
    const options = { fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, queueAtDestination: false, replayPortBacklog: backlog } } };
    const { lab, resumed } = await resumeWithBarriersHeld(total, {
      options, holdBarriers: false, perMs: 2,
      beforeResume: (l) => { tap = l.sw(2n).slowTap(3, { capacity, perMs, everyMs, readsFrom: l.clock.now() + lateMs }); },
    });
    let done = false;
    resumed.then(() => { done = true; }, () => { done = true; });
    for (let ms = 0; ms < forMs && !done; ms++) await lab.advance(1);
    expect(done, `the replay ended within ${forMs} ms`).to.equal(true);
    for (let ms = 0; ms < 5000 && tap!.queue.length > 0 && tap!.readsFrom - lab.clock.now() < 5000 && tap!.everyMs === 1; ms++) await lab.advance(1); // the tap empties
    const got = lab.vm.inbox.map((f) => f.tag).filter((t): t is string => t !== undefined && t.startsWith('paused-'));
    return { lab, got, firsts: [...new Set(got)], tap: tap!, total };
  }

  it('a guest that runs again late and reads slowly: the replay gives its tap frames as it takes them (port stats), so the tap drops none, and none is lost, twice or out of order', async () => {
    const { lab, got, tap, total } = await replayIntoSlowTap(DEFAULT_BUFFER_LIMITS.replayPortBacklog);
    expect(tap.txDropped, 'frames the tap dropped').to.equal(0);
    expect(got, 'all of them, once, in order').to.deep.equal(Array.from({ length: total }, (_, i) => `paused-${i}`));
    expect(lab.fabric.buffers.counters.resent).to.equal(0);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  it('the same replay not watched at the port (replayPortBacklog 0): the rate alone overflows the late guest\'s tap, and frames are lost', async () => {
    const { got, tap, total } = await replayIntoSlowTap(0);
    expect(tap.txDropped, 'frames the tap dropped').to.be.greaterThan(0);
    expect(got.length).to.equal(total - tap.txDropped);
  });

  it('a tap that queues fewer frames than the backlog allowed drops some of a burst: the burst is given again, so every frame arrives, in the order of first arrival, some twice (counted)', async () => {
    const { lab, firsts, got, tap, total } = await replayIntoSlowTap(DEFAULT_BUFFER_LIMITS.replayPortBacklog, { capacity: 100, lateMs: 50, perMs: 3 });
    expect(tap.txDropped, 'the small tap dropped some').to.be.greaterThan(0);
    expect(firsts, 'every frame, first arrivals in order').to.deep.equal(Array.from({ length: total }, (_, i) => `paused-${i}`));
    expect(lab.fabric.buffers.counters.resent, 'given again').to.be.at.least(tap.txDropped);
    expect(got.length - total, 'twice: no more than were given again').to.be.at.most(lab.fabric.buffers.counters.resent);
    lab.stop();
  });

  it('a port whose reader takes nothing: the replay waits for it no longer than PORT_STALL_MS, then goes on at its rate and the hold ends', async () => {
    // replayIntoSlowTap returns once the replay (the `resumed` signal's work) is done.
    const start = Date.now();
    const { lab, tap } = await replayIntoSlowTap(DEFAULT_BUFFER_LIMITS.replayPortBacklog, { lateMs: 60_000, total: 700 });
    expect(tap.txPackets, 'read nothing').to.equal(0);
    expect(tap.queue.length + tap.txDropped, 'every frame given to it, some of them again').to.be.at.least(700);
    expect(Date.now() - start, 'in test time, not real time').to.be.below(20_000);
    lab.stop();
  });

  it('a guest that reads a frame now and then (never still for PORT_STALL_MS) keeps the replay waiting no longer than bufferMaxAgeMs', async () => {
    const { lab, tap } = await replayIntoSlowTap(DEFAULT_BUFFER_LIMITS.replayPortBacklog, { lateMs: 0, perMs: 1, everyMs: 400, forMs: DEFAULT_BUFFER_LIMITS.maxAgeMs + 2000 });
    expect(tap.txPackets, 'it read a few').to.be.within(1, 30);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  it('frames that came faster than the replay rate go out twice as fast as they came, so the replay catches up', async () => {
    const perMs = 30; // 30,000 a second, six times the replay rate
    const total = 600;
    const { lab, resumed } = await resumeWithBarriersHeld(total, { options: PACED, holdBarriers: false, perMs });
    const counts = await arrivals(lab, 40);
    const done = counts.indexOf(total) + 1;
    expect(done, 'out in about half the time they took to come (20 ms)').to.be.within(Math.floor(total / perMs / 2) - 2, Math.ceil(total / perMs / 2) + 2);
    expect(counts[0], 'bursts of about 2 x 30 x 2 frames').to.be.within(2 * perMs * PACED_BURST_MS - 15, 2 * perMs * PACED_BURST_MS + 15);
    await resumed;
    lab.stop();
  });

  it('with no replay rate (0) the same frames go out as fast as the switch confirms: all of them within 2 ms', async () => {
    const total = 10 * ((REPLAY_RATE * PACED_BURST_MS) / 1000) + 7;
    const { lab, resumed } = await resumeWithBarriersHeld(total, { holdBarriers: false, perMs: 1 });
    const counts = await arrivals(lab, 40);
    expect(counts.indexOf(total) + 1, 'ms until all were out').to.be.at.most(2);
    await resumed;
    lab.stop();
  });

  it('the first burst does not wait for the port\'s counters: they are asked for ahead of it, and the switch reads them first', async () => {
    // The lab's switch answered port stats 1-5 ms late while it forwarded the streams: a wait the
    // VM's streams paid after every resume. Here the answer comes after a second.
    const { lab, resumed } = await resumeWithBarriersHeld(10, { beforeResume: (l) => { l.sw(2n).portStatsDelayMs = 1000; } });
    expect(tags(lab, 'paused-'), 'out before the counters came').to.have.length(10);
    lab.sw(2n).portStatsDelayMs = 0;
    lab.sw(2n).releaseBarriers();
    await lab.advance(1100);
    await resumed;
    expect(tags(lab, 'paused-')).to.deep.equal(Array.from({ length: 10 }, (_, i) => `paused-${i}`));
    lab.stop();
  });

  it('more frames waited than one burst: they reach the VM in bursts, each after the switch confirmed the one before, in order, before newer ones', async () => {
    const { lab, total, resumed } = await resumeWithBarriersHeld();
    expect(tags(lab, 'paused-'), 'one burst until the switch confirms it').to.have.length(MAX_BURST);
    lab.sw(2n).releaseBarriers(true);
    await lab.settle();
    expect(tags(lab, 'paused-'), 'then the next').to.have.length(2 * MAX_BURST);
    lab.net.send(lab.cnB, VM.eid, 'after'); // while the hold rules are still in place: it waits behind them
    lab.sw(2n).releaseBarriers();
    await lab.settle();
    await resumed;
    const got = tags(lab, 'paused-');
    expect(got, 'none lost, none twice, in order').to.deep.equal(Array.from({ length: total }, (_, i) => `paused-${i}`));
    const order = lab.vm.inbox.map((f) => f.tag);
    expect(order.indexOf('after'), 'the newer frame after them').to.be.greaterThan(order.indexOf(`paused-${total - 1}`));
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  it('the hold ends only once the switch confirmed the last burst: a frame still on its way to the controller waits behind the replay, not overtaken by newer ones', async () => {
    // Under load the controller reads packet-ins late: a straggler let through at once after the
    // replay, with the hold rules going, reached the VM after newer frames (Linux then drops it as
    // old: PAWS). The last burst's barrier makes the controller read what the switch sent before.
    const { lab, resumed } = await resumeWithBarriersHeld(10);
    expect(tags(lab, 'paused-'), 'one burst, out').to.have.length(10);
    lab.net.send(lab.cnB, VM.eid, 'straggler');
    await lab.settle();
    expect(tags(lab, 'straggler'), 'it waits until the switch confirmed the burst').to.deep.equal([]);
    lab.sw(2n).releaseBarriers();
    await lab.settle();
    await resumed;
    lab.net.send(lab.cnB, VM.eid, 'after');
    await lab.settle();
    expect(lab.vm.inbox.map((f) => f.tag).filter((t) => t !== undefined && /^(paused-|straggler|after)/.test(t)))
      .to.deep.equal([...Array.from({ length: 10 }, (_, i) => `paused-${i}`), 'straggler', 'after']);
    expect(lab.leaks()).to.deep.equal([]);
    lab.stop();
  });

  it('the VM moves on while its held frames still go out in bursts: the rest follow it to its new place, none lost, none twice', async () => {
    const { lab, total, resumed } = await resumeWithBarriersHeld();
    expect(tags(lab, 'paused-'), 'the first burst').to.have.length(MAX_BURST);
    // It moves on at once (an unlikely second migration, its old port gone): C, port 4.
    lab.net.move(lab.vm, { dpid: 3n, port: 4 }, { keepOldPort: false });
    lab.switches.portStatus(2n, 3, 'delete');
    lab.switches.portStatus(3n, 4, 'add');
    lab.announce('both');
    await lab.settle();
    lab.sw(2n).releaseBarriers();
    await lab.settle();
    await resumed;
    expect(lab.binding.locator, 'it moved on').to.deep.include({ dpid: 3n, port: 4 });
    const got = tags(lab, 'paused-');
    expect(new Set(got).size, 'none twice').to.equal(got.length);
    expect([...got].sort(), 'none lost').to.deep.equal(Array.from({ length: total }, (_, i) => `paused-${i}`).sort());
    await lab.advance(2000);
    expect(lab.leaks(), 'no rule of the version it left behind').to.deep.equal([]);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('moved ahead, the VM\'s ARP for its gateway at its new port is answered there with the home gateway\'s MAC', async () => {
    const lab = await FabricLab.create(HELD_HERE);
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    const homeGw = lab.fabric.gatewayMac('A');
    expect(homeGw).to.be.a('string');
    await lab.signal('migrating', { toDpid: 2n, toPort: 3, lossFree: true });
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => undefined);
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    lab.vm.arp.delete('10.0.1.1');
    const m = VM.mac;
    lab.net.inject(lab.vm, { eth_src: m, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: m, arp_spa: VM.eid, arp_tha: '00:00:00:00:00:00', arp_tpa: '10.0.1.1' });
    await lab.settle();
    expect(lab.vm.arp.get('10.0.1.1'), 'answered with the home gateway MAC').to.equal(homeGw);
    lab.stop();
  });

  it('bufferQueueAtDestination, moved ahead to a port that is up (a QEMU tap, which keeps frames for the stopped VM): they go there at the stop, in order, and reach the VM when it runs', async () => {
    const lab = await FabricLab.create({ fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, queueAtDestination: true } } });
    lab.vm.tapQueue = [];
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { toDpid: 2n, toPort: 3, lossFree: true });
    // The stop signal trails the stop by 20 ms: what came meanwhile went to the old port and is recovered from the copies.
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => { for (let i = 0; i < 3; i++) lab.net.send(lab.cnC, VM.eid, `paused-${i}`); }, 20);
    await lab.settle();
    expect(lab.events.find((e) => e.type === 'VM_RESUMED'), 'released at the stop, not at the resume').to.include({ trigger: 'destination port up', frames: 3 });
    for (let i = 3; i < 6; i++) lab.net.send(lab.cnC, VM.eid, `paused-${i}`); // straight to the tap by the rules
    await lab.advance(100);
    expect(tags(lab, 'paused-'), 'nothing reached the stopped VM').to.deep.equal([]);
    lab.vm.paused = false;
    lab.net.send(lab.cnC, VM.eid, 'after-0');
    await lab.settle();
    expect(tags(lab, 'paused-').concat(tags(lab, 'after-')), 'all of it, in order, when it runs').to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3', 'paused-4', 'paused-5', 'after-0']);
    expect(lab.fabric.buffers.isHolding(lab.binding.id)).to.equal(false);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('moved ahead, its RARP while the move is still being applied: the hold ends then, not at the time bound', async () => {
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { toDpid: 2n, toPort: 3, lossFree: true });
    // The VM resumes (QEMU announces at once) right after the move ahead was committed, before its rules are confirmed.
    const sub = lab.fabric.events$.subscribe((e) => {
      if (e.type === 'BINDING_MOVED') setImmediate(() => { lab.vm.paused = false; lab.announce('rarp'); });
    });
    lab.vm.paused = true;
    lab.net.move(lab.vm, { dpid: 2n, port: 3 }, { keepOldPort: true });
    lab.switches.portStatus(2n, 3, 'add');
    for (let i = 0; i < 5; i++) lab.net.send(lab.cnC, VM.eid, `paused-${i}`);
    await lab.signal('stopping', { stoppedAt: lab.clock.now() });
    await lab.settle();
    sub.unsubscribe();
    expect(lab.fabric.migrations.list().map((m) => m.trigger), 'one move, made ahead').to.deep.equal(['signal']);
    expect(lab.events.find((e) => e.type === 'VM_RESUMED')).to.include({ trigger: 'first frame', frames: 5 });
    expect(tags(lab, 'paused-')).to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3', 'paused-4']);
    expect(lab.fabric.buffers.isHolding(lab.binding.id), 'nothing held any more').to.equal(false);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('copies kept while the VM migrates: frames lost at its stopped port before the stop signal arrived are delivered too', async () => {
    const lab = await FabricLab.create();
    lab.sw(1n).noPortStats = true; // the span before the stop by time (counted: below)
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { lossFree: true });
    for (let i = 0; i < 3; i++) lab.net.send(lab.cnB, VM.eid, `before-${i}`);
    await lab.settle();
    expect(tags(lab, 'before-'), 'delivered while it runs').to.have.length(3);
    await lab.advance(100); // older than the clock slack: not given again
    // The stop signal trails the stop by 30 ms: what came meanwhile went to the dead port, and was copied.
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => { for (let i = 0; i < 4; i++) lab.net.send(lab.cnB, VM.eid, `paused-${i}`); }, 30);
    for (let i = 4; i < 8; i++) lab.net.send(lab.cnB, VM.eid, `paused-${i}`);
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    expect(tags(lab, 'paused-')).to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3', 'paused-4', 'paused-5', 'paused-6', 'paused-7']);
    expect(tags(lab, 'before-'), 'nothing twice').to.have.length(3);
    expect(lab.fabric.buffers.counters).to.deep.include({ recovered: 4, buffered: 4, delivered: 8, dropped: 0 });
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('a guest that left its tap unread for 200 ms before its stop: the copies its port had not handed on reach it again, by the port\'s counters', async () => {
    // A libvirt-starved TCG guest answered its last ping 78 ms before its STOP (2026-12-01): a span
    // by time misses what such a guest left in its tap; the tap's count of what it handed on does not.
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { lossFree: true });
    for (let i = 0; i < 40; i++) {
      lab.net.send(lab.cnB, VM.eid, `read-${i}`);
      await lab.advance(5);
    }
    expect(tags(lab, 'read-'), 'taken while it runs').to.have.length(40);
    lab.vm.paused = true; // the guest stops reading: its tap keeps what comes (and counts none of it)
    lab.vm.tapQueue = [];
    for (let i = 0; i < 10; i++) {
      lab.net.send(lab.cnB, VM.eid, `unread-${i}`);
      await lab.advance(20);
    }
    lab.vm.tapQueue = undefined; // the source's tap goes with what it kept
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => { lab.net.send(lab.cnB, VM.eid, 'paused-0'); }, 10);
    expect(lab.logged('VM stopped: frames for it wait at the controller')[0]).to.include({ byPortCounters: true, countTrusted: true });
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    expect(tags(lab, 'unread-'), 'all of them, once, in order').to.deep.equal(Array.from({ length: 10 }, (_, i) => `unread-${i}`));
    expect(tags(lab, 'paused-')).to.deep.equal(['paused-0']);
    const read = tags(lab, 'read-');
    expect(read.slice(0, 40), 'in order').to.deep.equal(Array.from({ length: 40 }, (_, i) => `read-${i}`));
    expect(read.length - 40, 'given again: no more than the margin').to.equal(UNREAD_MARGIN);
    expect(lab.fabric.buffers.counters).to.deep.include({ dropped: 0 });
    lab.stop();
  });

  it('a reading of the port is paired with the copies that came before its reply, not with those that followed it', async () => {
    // A busy controller reads a switch's reply and the packet-ins it sent after it in one chunk; the
    // reply's promise callbacks run once the whole chunk is handled. Paired with the copies counted
    // then, the frames the port was given uncopied seemed fewer by those that followed: by as many
    // at every reading, the replay began that many copies too late (the margin covers 16); by more
    // at some than at others, the reads seemed to swing, and the 100 ms span was replayed (here
    // 200 copies, the reads' swing 26, before the reading was paired at its reply).
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    expect(lab.binding.locator.dpid).to.equal(1n);
    lab.sw(1n).portStatsDelayMs = 20; // each answer reaches the controller behind the copies of the next 20 ms
    await lab.signal('migrating', { lossFree: true });
    let n = 0;
    for (let ms = 0; ms < 200; ms++) {
      for (let i = 0; i < 2; i++) lab.net.send(lab.cnB, VM.eid, `read-${n++}`);
      await lab.advance(1);
    }
    lab.vm.paused = true; // its last 7 ms before the stop unread: 14 frames, 10 of them within the span by time
    lab.vm.tapQueue = [];
    let u = 0;
    for (let ms = 0; ms < 7; ms++) {
      for (let i = 0; i < 2; i++) lab.net.send(lab.cnB, VM.eid, `unread-${u++}`);
      await lab.advance(1);
    }
    lab.vm.tapQueue = undefined; // the source's tap goes with what it kept
    lab.sw(1n).portStatsDelayMs = 0; // the reading at the stop (the signal waits for it, and the fake clock with it)
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => undefined, 10);
    const stopped = lab.logged('VM stopped: frames for it wait at the controller')[0]!;
    expect(stopped, 'the count decides alone').to.include({ byPortCounters: true, countTrusted: true, readsSpread: 0 });
    expect(stopped.recovered, 'the unread copies and the margin').to.equal(u + UNREAD_MARGIN);
    expect(stopped.takenByCount, 'all of them by the count').to.equal(u + UNREAD_MARGIN);
    expect(Number(stopped.copies) - Number(stopped.unreadFromCopy), 'the count\'s unread copies').to.equal(u + UNREAD_MARGIN);
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    expect(tags(lab, 'unread-'), 'all of them, once, in order').to.deep.equal(Array.from({ length: u }, (_, i) => `unread-${i}`));
    lab.stop();
  });

  it('a guest whose tap held frames at every reading while they were copied: the count alone may fall short, so the span by time is replayed as well', async () => {
    // CI, 2026-12-02: a libvirt-starved TCG guest's QEMU read its tap late throughout; 2 copies
    // were replayed by the count and 5 echo requests lost.
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { lossFree: true });
    lab.vm.tapQueue = [];
    lab.vm.paused = true; // its reader below: 60-90 ms behind, never caught up
    let n = 0;
    for (let ms = 0; ms < 300; ms += 2) {
      lab.net.send(lab.cnB, VM.eid, `lagged-${n++}`);
      if (ms % 10 === 0) lab.net.readTap(lab.vm, ms % 20 === 0 ? 30 : 40);
      await lab.advance(2);
    }
    lab.vm.tapQueue = undefined; // the source's tap goes with what it kept
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => undefined, 10);
    const stopped = lab.logged('VM stopped: frames for it wait at the controller')[0]!;
    expect(stopped).to.include({ byPortCounters: true });
    expect(stopped.readsSpread, 'its reads swung').to.be.greaterThan(LAG_SPREAD);
    expect(stopped.countTrusted, 'so the count does not decide alone').to.equal(false);
    expect(stopped.recovered, 'the copies of the span before the stop, at least').to.be.at.least(REPLAY_BEFORE_STOP_MS / 5);
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    const got = new Set(tags(lab, 'lagged-'));
    expect(Array.from({ length: n }, (_, i) => `lagged-${i}`).filter((t) => !got.has(t)), 'none lost').to.deep.equal([]);
    lab.stop();
  });

  it('a stop soon after the copying began (fewer than 3 readings of the port): the span by time is replayed as well', async () => {
    // CI, 2026-12-02: one reading, taken before the copy rules were in place, made the count take
    // frames the port was given uncopied for copies read; 2 copies were replayed and a ping lost.
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    lab.net.send(lab.cnB, VM.eid, 'before-copying');
    await lab.advance(30);
    await lab.signal('migrating', { lossFree: true });
    for (let i = 0; i < 40; i++) lab.net.send(lab.cnB, VM.eid, `copied-${i}`); // more than the count's margin, all read
    await lab.advance(15);
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => undefined, 5);
    const stopped = lab.logged('VM stopped: frames for it wait at the controller')[0]!;
    expect(stopped).to.include({ byPortCounters: true });
    expect(stopped.readings, 'readings while copying').to.be.below(TRUSTED_SAMPLES);
    expect(stopped.countTrusted).to.equal(false);
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    const copied = Array.from({ length: 40 }, (_, i) => `copied-${i}`);
    expect(tags(lab, 'copied-'), 'all the copies of the span, again').to.deep.equal([...copied, ...copied]);
    lab.stop();
  });

  it('the same with a port whose counters cannot tell: the span by time (replayBeforeStopMs) misses what the guest left unread before it', async () => {
    const lab = await FabricLab.create();
    lab.sw(1n).noPortStats = true;
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { lossFree: true });
    lab.vm.paused = true;
    lab.vm.tapQueue = [];
    for (let i = 0; i < 10; i++) {
      lab.net.send(lab.cnB, VM.eid, `unread-${i}`);
      await lab.advance(20);
    }
    lab.vm.tapQueue = undefined;
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => undefined, 10);
    expect(lab.logged('VM stopped: frames for it wait at the controller')[0]).to.include({ byPortCounters: false, countersCannotTell: 'no reading of the port while copying' });
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    const within = Math.ceil(REPLAY_BEFORE_STOP_MS / 20);
    expect(tags(lab, 'unread-'), 'only those of the span').to.deep.equal(Array.from({ length: within }, (_, i) => `unread-${10 - within + i}`));
    lab.stop();
  });

  it('frames the VM took just before its stop (maybe unread, lost with the source) reach it again: replayBeforeStopMs where the port\'s counters cannot tell', async () => {
    // Seen in the QEMU lab (2026-12-01): datagrams sent 3-8 ms before the guest's STOP, in its tap but unread, lost with a 5 ms span.
    const lab = await FabricLab.create();
    lab.sw(1n).noPortStats = true; // a port whose counters cannot tell which copies it handed on
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { lossFree: true });
    lab.net.send(lab.cnB, VM.eid, 'old-0');
    await lab.advance(100);
    lab.net.send(lab.cnB, VM.eid, 'just-before-0');
    await lab.advance(REPLAY_BEFORE_STOP_MS - 8);
    lab.net.send(lab.cnB, VM.eid, 'just-before-1');
    await lab.advance(5);
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => { lab.net.send(lab.cnB, VM.eid, 'paused-0'); }, 10);
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    expect(tags(lab, 'just-before-'), 'taken before the stop, and again after it').to.deep.equal(['just-before-0', 'just-before-1', 'just-before-0', 'just-before-1']);
    expect(tags(lab, 'old-'), 'older than the span: once').to.deep.equal(['old-0']);
    expect(tags(lab, 'paused-')).to.deep.equal(['paused-0']);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('a stop signalled later than the copies are kept: what the copy window let go is counted as dropped and said, the rest delivered', async () => {
    // Seen at 10,000 frames/s (2026-11-30): a stop signal 260 ms late, with a 250 ms window, lost the first frames of the stop silently.
    const lab = await FabricLab.create({ fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, copyWindowMs: 50, queueAtDestination: false } } });
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { lossFree: true });
    await stopAndMove(lab, { dpid: 2n, port: 3 }, () => { for (let i = 0; i < 4; i++) lab.net.send(lab.cnB, VM.eid, `paused-${i}`); }, 0);
    expect(lab.fabric.buffers.counters).to.deep.include({ recovered: 4, dropped: 0 });
    lab.stop();

    const late = await FabricLab.create({ fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, copyWindowMs: 50, queueAtDestination: false } } });
    expect(await late.allExchanges('warm')).to.deep.equal([]);
    await late.signal('migrating', { lossFree: true });
    await stopAndMove(late, { dpid: 2n, port: 3 }, () => { for (let i = 0; i < 4; i++) late.net.send(late.cnB, VM.eid, `paused-${i}`); }, 0, async () => {
      await late.settle();
      await late.advance(100); // the signal is late: newer copies push the first four out of the 50 ms window
      for (let i = 4; i < 6; i++) late.net.send(late.cnB, VM.eid, `paused-${i}`);
      await late.settle();
    });
    expect(late.fabric.buffers.counters, 'the four let go are dropped, counted').to.deep.include({ recovered: 2, dropped: 4 });
    expect(late.logged('VM stop signalled later than its copies are kept: frames its old port took after the stop are lost')[0]).to.include({ frames: 4 });
    late.vm.paused = false;
    late.announce('both');
    await late.settle();
    expect(tags(late, 'paused-'), 'what was kept reaches it').to.deep.equal(['paused-4', 'paused-5']);
    expect(await late.allExchanges('after')).to.deep.equal([]);
    late.stop();
  });

  /** A loss-free migration whose VM stopped and was moved to s2:3 with no stop signal yet (it comes late); four frames for it reached its old port. */
  async function stoppedAtB3WithoutSignal(): Promise<{ lab: FabricLab; stoppedAt: number }> {
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { lossFree: true });
    const stoppedAt = lab.clock.now();
    lab.vm.paused = true;
    lab.net.move(lab.vm, { dpid: 2n, port: 3 }, { keepOldPort: true });
    lab.switches.portStatus(2n, 3, 'add');
    for (let i = 0; i < 4; i++) lab.net.send(lab.cnB, VM.eid, `paused-${i}`);
    await lab.advance(100);
    return { lab, stoppedAt };
  }

  /** Nothing is held for the VM any more, and newer frames reach it at once. */
  async function expectFlowingAtNewPlace(lab: FabricLab): Promise<void> {
    expect(lab.fabric.buffers.isHolding(lab.binding.id), 'no hold at its new place').to.equal(false);
    for (let i = 0; i < 3; i++) lab.net.send(lab.cnB, VM.eid, `after-${i}`);
    await lab.settle();
    expect(tags(lab, 'after-'), 'newer frames flow at once').to.deep.equal(['after-0', 'after-1', 'after-2']);
  }

  it('no more than bufferMaxVms VMs buffered at once: a further migration goes on without a buffer, counted and said', async () => {
    const lab = await FabricLab.create({ fabric: { buffer: { ...DEFAULT_BUFFER_LIMITS, maxVms: 1, queueAtDestination: false } } });
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    const { buffers } = lab.fabric;
    const other = lab.registry.bindings.byEid(lab.cnB.ip)!;
    const registered = lab.intents.register({ eid: other.eid, phase: 'migrating', lossFree: true, expiresAt: lab.clock.now() + 30_000 }, lab.clock.now());
    if (!registered.ok) throw new Error(registered.error);
    const copying = lab.fabric.phases.onIntent(registered.intent);
    await lab.settle(200, 5);
    await copying;
    expect(buffers.mode(other.id), 'another VM took the only room').to.equal('copy');
    await lab.signal('migrating', { lossFree: true });
    expect(buffers.mode(lab.binding.id), 'no copy').to.equal(undefined);
    await lab.signal('stopping', { stoppedAt: lab.clock.now() });
    expect(buffers.isHolding(lab.binding.id), 'no hold').to.equal(false);
    expect(buffers.counters.refused).to.equal(2);
    expect(lab.logged('loss-free migration without a buffer: too many VMs buffered at once').map((l) => l.phase)).to.deep.equal(['migrating', 'stopping']);
    lab.vm.paused = true;
    lab.net.move(lab.vm, { dpid: 2n, port: 3 }, { keepOldPort: true });
    lab.switches.portStatus(2n, 3, 'add');
    await lab.advance(100);
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    expect(lab.binding.locator, 'it moves as without a host agent').to.deep.include({ dpid: 2n, port: 3 });
    expect(buffers.mode(other.id), 'the other keeps its copy').to.equal('copy');
    lab.stop();
  });

  it('a stop signalled after the VM already resumed and moved: nothing is held, what its old port took since the stop is delivered', async () => {
    const { lab, stoppedAt } = await stoppedAtB3WithoutSignal();
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    expect(lab.binding.locator, 'moved on its announcement').to.deep.include({ dpid: 2n, port: 3 });
    expect(tags(lab, 'paused-'), 'lost at the old port').to.deep.equal([]);
    await lab.signal('stopping', { stoppedAt }); // the signal, 150 ms late
    expect(tags(lab, 'paused-'), 'the copies go to it').to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3']);
    await expectFlowingAtNewPlace(lab);
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('a stop signalled while the move the VM\'s announcement started is still under way: nothing is held, what its old port took since the stop follows it', async () => {
    // On a loaded host the signal can trail the stop by hundreds of ms (260 ms at 10,000 frames/s,
    // 2026-11-30): it may come while the move the VM's RARP started is being applied.
    const { lab, stoppedAt } = await stoppedAtB3WithoutSignal();
    // The signal arrives right after the VM's first frame there started its move.
    const { flights } = lab.fabric;
    const begin = flights.begin.bind(flights);
    let signalled: Promise<unknown> | undefined;
    flights.begin = (...args) => {
      const flight = begin(...args);
      signalled ??= lab.signal('stopping', { stoppedAt });
      return flight;
    };
    lab.vm.paused = false;
    lab.announce('both');
    await lab.settle();
    expect(signalled, 'the signal came during the move').to.not.equal(undefined);
    await signalled;
    await lab.settle();
    // The stop reads the port's counters first: by their answer the move had ended the copying, so
    // its copies since the stop go to the VM's new place at once (nothing is held).
    expect(lab.logged('VM stopped: frames for it wait at the controller'), 'nothing held').to.deep.equal([]);
    expect(lab.logged('VM stop signalled after its move: the frames its old port took since the stop are delivered')[0]).to.include({ frames: 4 });
    expect(lab.binding.locator, 'moved on its announcement').to.deep.include({ dpid: 2n, port: 3 });
    expect(tags(lab, 'paused-'), 'the copies go to it').to.deep.equal(['paused-0', 'paused-1', 'paused-2', 'paused-3']);
    await expectFlowingAtNewPlace(lab);
    expect(lab.fabric.buffers.counters).to.deep.include({ dropped: 0 });
    expect(await lab.allExchanges('after')).to.deep.equal([]);
    lab.stop();
  });

  it('a migration called off while copying: the copy rules go, late copies are not delivered twice', async () => {
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('migrating', { lossFree: true });
    expect(lab.table(1n).flows().filter((f) => f.table === 3 && f.priority === 110), 'copy rule at the VM\'s edge').to.have.length(1);
    lab.intents.consume(VM.eid);
    await lab.fabric.phases.withdraw(VM.eid);
    await lab.settle();
    for (let i = 0; i < 3; i++) lab.net.send(lab.cnB, VM.eid, `later-${i}`);
    await lab.settle();
    expect(tags(lab, 'later-')).to.deep.equal(['later-0', 'later-1', 'later-2']);
    await lab.advance(2000);
    expect(bufferRules(lab)).to.deep.equal([]);
    lab.stop();
  });

  it('a resumed intent that names no place is no evidence for a claim', async () => {
    const lab = await FabricLab.create();
    expect(await lab.allExchanges('warm')).to.deep.equal([]);
    await lab.signal('resumed');
    lab.net.move(lab.vm, { dpid: 3n, port: 4 }, { keepOldPort: true });
    lab.switches.portStatus(3n, 4, 'add');
    lab.announce('garp');
    await lab.settle();
    expect(lab.binding.locator).to.deep.include({ dpid: 3n, port: 4 });
    expect(lab.fabric.migrations.list().map((m) => m.reason), 'moved once its old port was found silent, not on the word of the intent').to.deep.equal(['old-attachment-silent']);
    lab.stop();
  });
});
