import { expect } from 'chai';
import { encodeMessage, Framer } from '../../../controller/openflow/index.js';
import { summarize, summarizeRss, Tally, vmRssBytes } from '../../../bench/soak/figures.js';
import { ALL, FRAMED, mutate, randomMutation, seededRandom } from '../../../bench/soak/mutate.js';

describe('bench/soak figures', () => {
  it('summarizes latencies by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1, unsorted
    expect(summarize(values)).to.deep.equal({ samples: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
    expect(summarize([7])).to.deep.equal({ samples: 1, p50Ms: 7, p99Ms: 7, maxMs: 7 });
    expect(summarize([]).p99Ms).to.be.NaN;
  });

  it('compares the median of the first and last samples of RSS, so one GC spike does not decide', () => {
    const at = (bytes: number[]) => bytes.map((b, i) => ({ atS: i, bytes: b }));
    const flat = summarizeRss(at([100, 180, 100, 140, 105, 300, 104]));
    expect(flat).to.include({ startBytes: 100, endBytes: 105, maxBytes: 300, flat: true });
    const grew = summarizeRss(at([100, 100, 100, 111, 112, 115]));
    expect(grew.flat).to.equal(false);
    expect(grew.growth).to.be.closeTo(0.12, 1e-9);
    expect(() => summarizeRss([])).to.throw(/no RSS/);
  });

  it('reads VmRSS from /proc/PID/status', () => {
    expect(vmRssBytes('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   81234 kB\nThreads: 11\n')).to.equal(81234 * 1024);
    expect(vmRssBytes('Name:\tzombie\n')).to.equal(undefined);
  });

  it('tallies by kind', () => {
    const t = new Tally();
    t.add('b', 2);
    t.add('a');
    t.add('b');
    expect(t.entries()).to.deep.equal([['a', 1], ['b', 3]]);
    expect(t.total).to.equal(4);
  });
});

describe('bench/soak mutations', () => {
  const packetIn = encodeMessage({ type: 'PACKET_IN', xid: 5, bufferId: 0xffffffff, totalLen: 60, reason: 0, tableId: 0, cookie: 0n, match: { in_port: 1 }, data: new Uint8Array(60) });
  const hello = encodeMessage({ type: 'HELLO', xid: 1, version: 4, elements: [{ type: 'VERSIONBITMAP', versions: [4] }] });

  it('is reproducible from its seed', () => {
    const run = (seed: number) => {
      const rand = seededRandom(seed);
      return Array.from({ length: 50 }, () => randomMutation([packetIn, hello], ALL, rand).frame.toString('hex'));
    };
    expect(run(42)).to.deep.equal(run(42));
    expect(run(42)).to.not.deep.equal(run(43));
  });

  it('keeps framed mutations framed: one whole frame, the original untouched', () => {
    const original = Buffer.from(packetIn);
    const rand = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const { kind, frame } = randomMutation([packetIn, hello], FRAMED, rand);
      expect(frame.readUInt16BE(2), kind).to.equal(frame.length);
      const { frames, error } = new Framer().push(frame);
      expect(error, kind).to.equal(undefined);
      expect(frames.length, kind).to.equal(1);
    }
    expect(packetIn.equals(original)).to.equal(true);
  });

  it('makes every kind of change it names', () => {
    const rand = seededRandom(1);
    expect(mutate(packetIn, 'bad-length', rand).readUInt16BE(2)).to.not.equal(packetIn.length);
    expect(mutate(packetIn, 'bad-version', rand)[0]).to.not.equal(4);
    expect(mutate(packetIn, 'flip-bits', rand).equals(packetIn)).to.equal(false);
    expect(mutate(packetIn, 'extend-body', rand).length).to.be.greaterThan(packetIn.length);
    expect(mutate(packetIn, 'flip-bits', rand).readUInt16BE(2)).to.equal(packetIn.length);
    expect(() => mutate(Buffer.alloc(3), 'flip-bits', rand)).to.throw(/not an OpenFlow message/);
  });
});
