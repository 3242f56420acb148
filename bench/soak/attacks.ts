// The soak benchmark's hostile load: each attack is a loop that runs until told to stop, counts
// what it sent in a shared tally and closes every socket it opened. Everything goes to 127.0.0.1.
// The rates are paced so that the 2-core lab (Open vSwitch's userspace datapath, Mininet, the
// streams) keeps its share: the point is the controller's behaviour under a sustained mix, not
// the highest rate one peer can reach (test/integration/switch-hostile.test.ts does that).

import { connect, type Socket } from 'node:net';
import {
  encodeMessage, OFP_NO_BUFFER, OFPMPF_REPLY_MORE, OFPR_NO_MATCH, type FlowStats, type OfpMessage,
} from '../../controller/openflow/index.js';
import { buildArpRequest } from '../../controller/packet/index.js';
import { emulatedPort, packetInFrames, sleep } from '../switch-emulator.js';
import type { Tally } from './figures.js';
import { ALL, FRAMED, randomMutation } from './mutate.js';
import { HELLO_13, ScriptedSwitch, within } from './scripted-switch.js';

export interface AttackContext {
  readonly openflowPort: number;
  readonly httpPort: number;
  /** Datapath ids of the real switches (the duplicate-dpid attack claims them). */
  readonly realDpids: readonly bigint[];
  readonly tally: Tally;
  readonly rand: () => number;
  readonly stopped: () => boolean;
}

export type Attack = (ctx: AttackContext) => Promise<void>;

/** What a switch sends, valid, as the mutations' starting points. */
export function switchMessages(dpid: bigint): Buffer[] {
  const port = emulatedPort(dpid, 1);
  const flow: FlowStats = { tableId: 0, durationSec: 1, durationNsec: 0, priority: 100, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: 1n, packetCount: 0n, byteCount: 0n, match: { in_port: 1, eth_type: 0x0800 }, instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 2 }] }] };
  const messages: OfpMessage[] = [
    { type: 'HELLO', xid: 1, version: 4, elements: [{ type: 'VERSIONBITMAP', versions: [4] }] },
    { type: 'FEATURES_REPLY', xid: 2, datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 },
    { type: 'ECHO_REQUEST', xid: 3, data: new Uint8Array(16) },
    { type: 'ECHO_REPLY', xid: 4, data: new Uint8Array(8) },
    { type: 'ERROR', xid: 5, errorType: 1, code: 2, data: new Uint8Array(64) },
    { type: 'PORT_STATUS', xid: 0, reason: 2, port },
    { type: 'PORT_STATUS', xid: 0, reason: 1, port: emulatedPort(dpid, 2, true) },
    { type: 'FLOW_REMOVED', xid: 0, cookie: 1n, priority: 100, reason: 0, tableId: 0, durationSec: 3, durationNsec: 0, idleTimeout: 10, hardTimeout: 0, packetCount: 1n, byteCount: 60n, match: { in_port: 1 } },
    { type: 'MULTIPART_REPLY', xid: 6, flags: 0, body: { kind: 'PORT_DESC', ports: [port] } },
    { type: 'MULTIPART_REPLY', xid: 7, flags: OFPMPF_REPLY_MORE, body: { kind: 'FLOW', flows: [flow, flow] } },
    { type: 'MULTIPART_REPLY', xid: 8, flags: 0, body: { kind: 'DESC', desc: { mfrDesc: 'x', hwDesc: 'y', swDesc: 'z', serialNum: '1', dpDesc: 'd' } } },
    { type: 'BARRIER_REPLY', xid: 9 },
    { type: 'ROLE_REPLY', xid: 10, role: 2, generationId: 0n },
    { type: 'GET_CONFIG_REPLY', xid: 11, flags: 0, missSendLen: 0xffff },
    { type: 'EXPERIMENTER', xid: 12, experimenter: 0x2320, expType: 1, data: new Uint8Array(12) },
  ];
  return [...messages.map(encodeMessage), ...packetInFrames(dpid, 8, 4)];
}

function rawPeer(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
    socket.on('error', () => undefined);
  });
}

const closedOf = (socket: Socket): Promise<void> => new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

/** Many short connections that send mutated messages before any handshake, then hang up. */
export const garbageConnections: Attack = async (ctx) => {
  const corpus = switchMessages(0x6a5b00n);
  while (!ctx.stopped()) {
    const socket = await rawPeer(ctx.openflowPort);
    if (socket === undefined) { await sleep(100); continue; }
    ctx.tally.add('garbage connections (before HELLO completes)');
    socket.on('data', () => undefined);
    const frames = Array.from({ length: 10 + Math.floor(ctx.rand() * 40) }, () => randomMutation(corpus, ALL, ctx.rand).frame);
    socket.write(Buffer.concat([ctx.rand() < 0.7 ? HELLO_13 : Buffer.alloc(0), ...frames]));
    ctx.tally.add('mutated messages', frames.length);
    await sleep(50);
    socket.destroy();
  }
};

/** Switches with throw-away datapath ids that reach MAIN, then send mutated messages and hang up. */
export const fuzzInMain: Attack = async (ctx) => {
  let n = 0;
  while (!ctx.stopped()) {
    const dpid = 0x5eed00n + BigInt(n++ % 64);
    const sw = new ScriptedSwitch({ port: ctx.openflowPort, dpid });
    ctx.tally.add('fuzzing switches (to MAIN)');
    if (await within(sw.main, 10_000, false)) {
      const corpus = switchMessages(dpid);
      for (let batch = 0; batch < 10 && sw.inMain && !ctx.stopped(); batch++) {
        // The last batch may break framing: the controller must close, not crash.
        const kinds = batch === 9 ? ALL : FRAMED;
        const frames = Array.from({ length: 20 }, () => randomMutation(corpus, kinds, ctx.rand).frame);
        sw.write(Buffer.concat(frames));
        ctx.tally.add('mutated messages in MAIN', frames.length);
        await sleep(20);
      }
    }
    await sw.close();
  }
};

/** Peers that ask for echo replies and never read them: before the handshake and in MAIN. */
export const nonReaders: Attack = async (ctx) => {
  const echo = encodeMessage({ type: 'ECHO_REQUEST', xid: 77, data: new Uint8Array(60_000) });
  let inMain = false;
  while (!ctx.stopped()) {
    let socket: Socket | undefined;
    let sw: ScriptedSwitch | undefined;
    if (inMain) {
      sw = new ScriptedSwitch({ port: ctx.openflowPort, dpid: 0x7ead00n });
      if (await within(sw.main, 10_000, false)) socket = sw.socket;
    } else {
      socket = await rawPeer(ctx.openflowPort);
      socket?.write(HELLO_13);
    }
    if (socket !== undefined) {
      socket.pause(); // never reads again: the kernel buffers fill, then the controller's queue
      ctx.tally.add(inMain ? 'non-reading peers in MAIN' : 'non-reading peers before MAIN');
      const closed = closedOf(socket);
      // Echo requests until the controller closes us (its output queue bound) or 40 MB are sent.
      for (let i = 0; i < 700 && !socket.destroyed && !ctx.stopped(); i++) {
        if (!socket.write(echo)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed, sleep(2000)]);
        ctx.tally.add('echo requests never read');
      }
      const byController = await within(closed.then(() => true), 15_000, false);
      if (byController) ctx.tally.add('non-reading peers closed by the controller');
      socket.destroy();
    }
    await sw?.close();
    inMain = !inMain;
    await sleep(3000);
  }
};

/** Peers that trickle one byte a second and never finish HELLO; each replaced when closed. */
export function tricklers(count: number): Attack {
  return async (ctx) => {
    const live = new Set<Socket>();
    let next = 0;
    while (!ctx.stopped()) {
      while (live.size < count && !ctx.stopped()) {
        const socket = await rawPeer(ctx.openflowPort);
        if (socket === undefined) break;
        ctx.tally.add('trickling peers');
        socket.on('data', () => undefined);
        live.add(socket);
        socket.once('close', () => live.delete(socket));
      }
      for (const s of live) s.write(HELLO_13.subarray(next % 8, next % 8 + 1));
      ctx.tally.add('trickled bytes', live.size);
      next++;
      await sleep(1000);
    }
    for (const s of live) s.destroy();
  };
}

/**
 * Multipart replies with REPLY_MORE that never end: a PORT_DESC in the handshake, then in MAIN
 * the flow stats of the resync that follows switch-up, alternately in big parts (the byte bound)
 * and in empty parts (the part bound). Each stream stops when the controller closes the switch or
 * after more than any default bound (40 MiB, 5,000 parts).
 */
export const endlessMultipart: Attack = async (ctx) => {
  let round = 0;
  while (!ctx.stopped()) {
    const phase = round % 3 === 0 ? 'handshake' : round % 3 === 1 ? 'big parts' : 'empty parts';
    round++;
    const dpid = 0xe0d1e500n + BigInt(round % 3);
    const streams: Promise<void>[] = [];
    const sw = new ScriptedSwitch({
      port: ctx.openflowPort, dpid,
      script: (m, self) => {
        if (m.type !== 'MULTIPART_REQUEST') return false;
        if (phase === 'handshake' && m.body.kind === 'PORT_DESC') {
          streams.push(endlessReply(self, ctx, portDescPart(dpid, m.xid), 2));
          return true;
        }
        if (phase !== 'handshake' && m.body.kind === 'FLOW') {
          streams.push(endlessReply(self, ctx, flowPart(m.xid, phase === 'big parts' ? 500 : 0), phase === 'big parts' ? 10 : 2));
          return true;
        }
        return false;
      },
    });
    ctx.tally.add(`endless multipart replies (${phase})`);
    // Until the stream ran out (the controller gave up on the reply long before) or we were closed.
    await within(sw.closed, 5_000, undefined);
    if (streams.length > 0) await Promise.race([Promise.all(streams), sw.closed]);
    await sw.close();
    await Promise.all(streams);
    await sleep(2000);
  }
};

function portDescPart(dpid: bigint, xid: number): Buffer {
  const ports = Array.from({ length: 64 }, (_, i) => emulatedPort(dpid, 100 + i));
  return encodeMessage({ type: 'MULTIPART_REPLY', xid, flags: OFPMPF_REPLY_MORE, body: { kind: 'PORT_DESC', ports } });
}

function flowPart(xid: number, flows: number): Buffer {
  const flow: FlowStats = { tableId: 0, durationSec: 1, durationNsec: 0, priority: 10, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: 7n, packetCount: 0n, byteCount: 0n, match: { in_port: 3 }, instructions: [] };
  return encodeMessage({ type: 'MULTIPART_REPLY', xid, flags: OFPMPF_REPLY_MORE, body: { kind: 'FLOW', flows: Array.from({ length: flows }, () => flow) } });
}

async function endlessReply(sw: ScriptedSwitch, ctx: AttackContext, part: Buffer, everyMs: number): Promise<void> {
  let bytes = 0;
  for (let parts = 0; parts < 5000 && bytes < 40 * 2 ** 20 && !sw.isClosed && !ctx.stopped(); parts++) {
    sw.write(part);
    bytes += part.length;
    ctx.tally.add('endless multipart parts');
    await sleep(everyMs);
  }
}

/** One switch in MAIN that sends packet-ins from random source MACs (a MAC flood), ~500 a second. */
export const macFlood: Attack = async (ctx) => {
  while (!ctx.stopped()) {
    const sw = new ScriptedSwitch({ port: ctx.openflowPort, dpid: 0xf100d0n });
    if (await within(sw.main, 10_000, false)) {
      while (sw.inMain && !ctx.stopped()) {
        const batch = Array.from({ length: 50 }, () => randomPacketIn(ctx.rand));
        sw.write(Buffer.concat(batch));
        ctx.tally.add('MAC-flood packet-ins', batch.length);
        await sleep(100);
      }
    }
    await sw.close();
    await sleep(1000);
  }
};

function randomPacketIn(rand: () => number): Buffer {
  const byte = () => Math.floor(rand() * 256);
  // Locally administered unicast, never all-zero; addresses outside every managed subnet.
  const mac = [0x02 | (byte() & 0xfc), byte(), byte(), byte(), byte(), 1 + (byte() % 255)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  const data = buildArpRequest({ senderMac: mac, senderIp: `172.${16 + (byte() % 16)}.${byte()}.${1 + (byte() % 254)}`, targetIp: `172.16.0.${1 + (byte() % 254)}` });
  return encodeMessage({ type: 'PACKET_IN', xid: 0, bufferId: OFP_NO_BUFFER, totalLen: data.length, reason: OFPR_NO_MATCH, tableId: 0, cookie: 0n, match: { in_port: 1 + (byte() % 4) }, data });
}

/**
 * Clones: a switch that claims the datapath id of a real one (it must be refused, the real one
 * untouched), and two that race for a fresh id (at most one may be admitted).
 */
export const duplicateDpids: Attack = async (ctx) => {
  let n = 0;
  while (!ctx.stopped()) {
    const real = ctx.realDpids[n % ctx.realDpids.length]!;
    const clone = new ScriptedSwitch({ port: ctx.openflowPort, dpid: real });
    ctx.tally.add('duplicate-dpid clones of a real switch');
    if (await within(clone.main, 5_000, false)) ctx.tally.add('CLONES ADMITTED');
    await clone.close();
    const fresh = 0xd0b1e000n + BigInt(n % 16);
    const pair = [new ScriptedSwitch({ port: ctx.openflowPort, dpid: fresh }), new ScriptedSwitch({ port: ctx.openflowPort, dpid: fresh })];
    ctx.tally.add('duplicate-dpid racing pairs');
    const admitted = await Promise.all(pair.map((s) => within(s.main, 5_000, false)));
    // Refused under keep-established means closed: one still open and talked to past the handshake wins.
    if (admitted.every(Boolean) && pair.every((s) => s.inMain)) ctx.tally.add('RACING PAIRS BOTH ADMITTED');
    await Promise.all(pair.map((s) => s.close()));
    n++;
    await sleep(2000);
  }
};
