import { expect } from 'chai';
import type { ErrorMsg, FlowStats, MultipartReply, OfpMessage, Port } from '../../../controller/openflow/types.js';
import { RequestTracker } from '../../../controller/switch/requests.js';
import { MultipartLimitError, OpenFlowError, RequestTimeoutError } from '../../../controller/switch/errors.js';
import { mergeMultipartBodies } from '../../../controller/switch/multipart.js';

function tracker(timeoutMs = 1000, recentLimit = 4, multipart = { maxParts: 100, maxBytes: 1 << 20, timeoutMs: 60_000 }) {
  return new RequestTracker({
    timeoutMs, recentLimit, describeSwitch: () => '00000000000000aa', errorName: (t, c) => `T${t}/C${c}`, multipart,
  });
}

const flow = (cookie: bigint): FlowStats => ({
  tableId: 0, durationSec: 0, durationNsec: 0, priority: 1, idleTimeout: 0, hardTimeout: 0, flags: 0,
  cookie, packetCount: 0n, byteCount: 0n, match: {}, instructions: [],
});
const flowPart = (xid: number, more: boolean, ...cookies: bigint[]): MultipartReply => ({
  type: 'MULTIPART_REPLY', xid, flags: more ? 1 : 0, body: { kind: 'FLOW', flows: cookies.map(flow) },
});
const errorMsg = (xid: number): ErrorMsg => ({ type: 'ERROR', xid, errorType: 3, code: 9, data: new Uint8Array() });
const flowStatsRequest = (xid: number) => ({
  type: 'MULTIPART_REQUEST' as const, xid, flags: 0,
  body: { kind: 'FLOW' as const, tableId: 0xff, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: {} },
});

describe('switch/requests', () => {
  it('allocates increasing xids, wrapping past 2^32-1 and skipping 0', () => {
    const t = tracker();
    expect([t.nextXid(), t.nextXid()]).to.deep.equal([1, 2]);
    (t as unknown as { lastXid: number }).lastXid = 0xfffffffe;
    expect([t.nextXid(), t.nextXid()]).to.deep.equal([0xffffffff, 1]);
  });

  it('resolves a barrier on its reply and ignores replies nobody waits for', async () => {
    const t = tracker();
    const p = t.expect({ type: 'BARRIER_REQUEST', xid: 5 });
    expect(t.onReply({ type: 'BARRIER_REPLY', xid: 6 })).to.equal(false);
    expect(t.onReply({ type: 'ECHO_REPLY', xid: 5, data: new Uint8Array() })).to.equal(false); // wrong type
    expect(t.onReply({ type: 'BARRIER_REPLY', xid: 5 })).to.equal(true);
    expect(await p).to.deep.equal({ type: 'BARRIER_REPLY', xid: 5 });
    expect(t.waitingCount).to.equal(0);
  });

  it('reassembles multipart replies across OFPMPF_REPLY_MORE', async () => {
    const t = tracker();
    const p = t.expect(flowStatsRequest(7));
    expect(t.onReply(flowPart(7, true, 1n, 2n))).to.equal(true);
    expect(t.onReply(flowPart(7, true, 3n))).to.equal(true);
    expect(t.onReply(flowPart(7, false, 4n))).to.equal(true);
    const reply = await p;
    expect(reply.flags).to.equal(0);
    expect(reply.body.kind === 'FLOW' && reply.body.flows.map((f) => f.cookie)).to.deep.equal([1n, 2n, 3n, 4n]);
  });

  it('rejects a request with an OpenFlowError that carries the request', async () => {
    const t = tracker();
    const request = flowStatsRequest(8);
    const p = t.expect(request);
    expect(t.onError(errorMsg(8))).to.deep.equal({ kind: 'request' });
    const error = await p.then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(OpenFlowError);
    expect(error).to.include({ errorType: 3, code: 9, errorName: 'T3/C9', request, dpid: '00000000000000aa' });
  });

  it('names remembered fire-and-forget messages in unsolicited errors, within a bound', () => {
    const t = tracker(1000, 2);
    const sent: OfpMessage[] = [1, 2, 3].map((xid) => ({ type: 'BARRIER_REQUEST', xid }));
    sent.forEach((m) => t.remember(m));
    const outcome = t.onError(errorMsg(3));
    expect(outcome.kind === 'unsolicited' && outcome.error.request).to.equal(sent[2]);
    const forgotten = t.onError(errorMsg(1)); // evicted: only the last two are kept
    expect(forgotten.kind === 'unsolicited' && forgotten.error.request).to.equal(undefined);
  });

  it('records errors of batch members', () => {
    const t = tracker();
    const batch = { errors: [] as OpenFlowError[] };
    const member: OfpMessage = { type: 'BARRIER_REQUEST', xid: 11 };
    t.joinBatch(member, batch);
    expect(t.onError(errorMsg(11))).to.deep.equal({ kind: 'batch' });
    expect(batch.errors.map((e) => e.request)).to.deep.equal([member]);
    t.leaveBatch([member]);
    expect(t.onError(errorMsg(11)).kind).to.equal('unsolicited');
  });

  it('times out silent requests, restarting the clock on every multipart part', async () => {
    const t = tracker(200);
    const silent = t.expect({ type: 'BARRIER_REQUEST', xid: 1 });
    const slow = t.expect(flowStatsRequest(2));
    const ticker = setInterval(() => t.onReply(flowPart(2, true, 1n)), 20);
    const error = await silent.then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(RequestTimeoutError);
    clearInterval(ticker);
    t.onReply(flowPart(2, false, 2n));
    const reply = await slow;
    expect(reply.body.kind === 'FLOW' && reply.body.flows.length).to.be.greaterThan(2);
  });

  it('fails a multipart reply past its part, byte or total-time bound, and ignores the rest of it', async () => {
    const limits = { maxParts: 3, maxBytes: 1000, timeoutMs: 60 };
    const failed: string[] = [];
    let now = 0;
    const t = new RequestTracker({
      timeoutMs: 1000, recentLimit: 4, describeSwitch: () => 'aa', errorName: () => '', multipart: limits, now: () => now,
      onLimit: (e) => failed.push(e.limit),
    });
    const request = (xid: number) => t.expect({ type: 'MULTIPART_REQUEST', xid, flags: 0, body: { kind: 'FLOW' } } as never).then(() => null, (e: unknown) => e);
    const parts = request(1);
    for (let i = 0; i < 3; i++) t.onReply(flowPart(1, true, 1n), 100);
    expect(await parts).to.be.instanceOf(MultipartLimitError).and.include({ limit: 'parts', bound: 3 });
    expect(t.onReply(flowPart(1, false, 1n), 100)).to.equal(false); // the rest finds nobody waiting
    const bytes = request(2);
    t.onReply(flowPart(2, true, 1n), 600);
    t.onReply(flowPart(2, false, 1n), 600); // even a last part may not carry a reply past the bound
    expect(await bytes).to.include({ limit: 'bytes', bound: 1000 });
    const slowParts = request(3);
    t.onReply(flowPart(3, true, 1n), 10);
    now = 61;
    t.onReply(flowPart(3, true, 1n), 10);
    expect(await slowParts).to.include({ limit: 'time' });
    // Parts that stop coming once the total time is up: the total deadline fires, not the silence timeout.
    now = 0;
    const stalled = request(4);
    t.onReply(flowPart(4, true, 1n), 10);
    now = 1000;
    expect(await stalled).to.be.instanceOf(MultipartLimitError).and.include({ limit: 'time' });
    expect(failed).to.deep.equal(['parts', 'bytes', 'time', 'time']);
  });

  it('fails everything still waiting when the connection dies', async () => {
    const t = tracker();
    const a = t.expect({ type: 'BARRIER_REQUEST', xid: 1 });
    const b = t.expect({ type: 'FEATURES_REQUEST', xid: 2 });
    t.failAll((request) => new Error(`dead: ${request.type}`));
    const messages = await Promise.all([a, b].map((p) => p.then(() => '', (e: Error) => e.message)));
    expect(messages).to.deep.equal(['dead: BARRIER_REQUEST', 'dead: FEATURES_REQUEST']);
    expect(t.waitingCount).to.equal(0);
  });
});

describe('switch/multipart', () => {
  const port = (portNo: number): Port => ({
    portNo, hwAddr: '00:00:00:00:00:01', name: `p${portNo}`, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
  });

  it('concatenates list bodies and keeps single bodies as they are', () => {
    const merged = mergeMultipartBodies([{ kind: 'PORT_DESC', ports: [port(1)] }, { kind: 'PORT_DESC', ports: [port(2), port(3)] }]);
    expect(merged.kind === 'PORT_DESC' && merged.ports.map((p) => p.portNo)).to.deep.equal([1, 2, 3]);
    const tables = mergeMultipartBodies([
      { kind: 'TABLE', tables: [{ tableId: 0, activeCount: 1, lookupCount: 2n, matchedCount: 1n }] },
      { kind: 'TABLE', tables: [{ tableId: 1, activeCount: 0, lookupCount: 0n, matchedCount: 0n }] },
    ]);
    expect(tables.kind === 'TABLE' && tables.tables.map((t) => t.tableId)).to.deep.equal([0, 1]);
    const raw = mergeMultipartBodies([
      { kind: 'UNKNOWN', mpType: 99, body: Uint8Array.of(1, 2) },
      { kind: 'UNKNOWN', mpType: 99, body: Uint8Array.of(3) },
    ]);
    expect(raw.kind === 'UNKNOWN' && [...raw.body]).to.deep.equal([1, 2, 3]);
    const desc = { kind: 'DESC' as const, desc: { mfrDesc: 'a', hwDesc: 'b', swDesc: 'c', serialNum: 'd', dpDesc: 'e' } };
    expect(mergeMultipartBodies([desc])).to.equal(desc);
  });
});
