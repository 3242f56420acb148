// JsonMessageSplitter: a real ovsdb-server stream (and hand-made messages with braces, quotes and
// backslashes inside strings, multi-byte UTF-8) cut at every byte offset or fed byte by byte
// yields the same whole messages; oversize, over-deep and non-object input loses framing for good
// with bounded memory.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { JsonMessageSplitter } from '../../../controller/ovsdb/index.js';

const STREAM = readFileSync(new URL('../../vectors/ovsdb-3.1/attachment-monitor.stream', import.meta.url));

const TRICKY = [
  { id: 1, result: { s: '}}}{{{' }, error: null },
  { method: 'update', params: ['m', { note: '{"}\\" ][\\"}' }], id: null },
  { method: 'echo', params: ['\\', '\\\\', '"', '\\"{'], id: 'echo' },
  { id: 2, result: ['é—漢字🙂 }', { '{': '[' }], error: null },
  { id: 3, result: [], error: null },
];
const TRICKY_TEXT = TRICKY.map((m, i) => (i % 2 === 0 ? JSON.stringify(m) : ` \n\t${JSON.stringify(m, null, 2)}\r\n`)).join('');

function feed(splitter: JsonMessageSplitter, chunks: readonly Buffer[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) {
    const r = splitter.push(chunk);
    if (r.error !== undefined) throw new Error(r.error);
    out.push(...r.messages);
  }
  return out;
}

const parsedAll = (texts: string[]) => texts.map((t) => JSON.parse(t) as unknown);

describe('JsonMessageSplitter', function () {
  this.timeout(30_000);

  it('cuts a captured ovsdb-server stream into its messages, whole', () => {
    const messages = feed(new JsonMessageSplitter(), [STREAM]);
    // The monitor reply, then one update per ovs-vsctl transaction and vswitchd's own writes.
    expect(messages.length).to.equal(7);
    expect(JSON.parse(messages[0]!)).to.deep.equal({ id: 1, result: {}, error: null });
    expect(messages.slice(1).map((m) => (JSON.parse(m) as { method: string }).method)).to.deep.equal(Array(6).fill('update'));
    expect(messages.join('')).to.equal(STREAM.toString('utf8'));
  });

  for (const [name, bytes] of [['the captured stream', STREAM], ['strings with braces, escapes and UTF-8', Buffer.from(TRICKY_TEXT)]] as const) {
    it(`cuts ${name} the same at every split offset and byte by byte`, () => {
      const whole = parsedAll(feed(new JsonMessageSplitter(), [bytes]));
      expect(whole.length).to.be.greaterThan(4);
      const wrong: number[] = [];
      for (let at = 0; at <= bytes.length; at++) {
        const splitter = new JsonMessageSplitter();
        const got = parsedAll(feed(splitter, [bytes.subarray(0, at), bytes.subarray(at)]));
        if (JSON.stringify(got) !== JSON.stringify(whole) || splitter.buffered !== 0) wrong.push(at);
      }
      expect(wrong).to.deep.equal([]);
      const bytewise = new JsonMessageSplitter();
      expect(parsedAll(feed(bytewise, [...bytes].map((b) => Buffer.from([b]))))).to.deep.equal(whole);
    });
  }

  it('keeps the hand-made tricky messages intact', () => {
    expect(parsedAll(feed(new JsonMessageSplitter(), [Buffer.from(TRICKY_TEXT)]))).to.deep.equal(TRICKY);
  });

  it('holds back a partial message and reports how much it buffers', () => {
    const splitter = new JsonMessageSplitter();
    const r = splitter.push(Buffer.from('{"id":1,"result":"{"}{"id":2,'));
    expect(r.messages).to.deep.equal(['{"id":1,"result":"{"}']);
    expect(splitter.buffered).to.equal(8);
    expect(splitter.push(Buffer.from('"result":null}')).messages).to.deep.equal(['{"id":2,"result":null}']);
    expect(splitter.buffered).to.equal(0);
  });

  it('rejects a message over the size limit, in one chunk or many, and stays lost', () => {
    const big = Buffer.from(JSON.stringify({ id: 1, result: 'x'.repeat(2000) }));
    const one = new JsonMessageSplitter({ maxMessageBytes: 1000 });
    const r = one.push(Buffer.concat([Buffer.from('{"id":0,"result":1}'), big]));
    expect(r.messages).to.deep.equal(['{"id":0,"result":1}']);
    expect(r.error).to.match(/longer than 1000 bytes/);
    expect(one.buffered).to.equal(0);
    expect(one.push(Buffer.from('{"id":2,"result":1}'))).to.deep.include({ messages: [] });
    expect(one.push(Buffer.from('{}')).error).to.match(/framing lost/);

    const many = new JsonMessageSplitter({ maxMessageBytes: 1000 });
    let error: string | undefined;
    let maxBuffered = 0;
    for (let i = 0; i < big.length && error === undefined; i += 100) {
      error = many.push(big.subarray(i, i + 100)).error;
      maxBuffered = Math.max(maxBuffered, many.buffered);
    }
    expect(error).to.match(/longer than 1000 bytes/);
    expect(maxBuffered).to.be.at.most(1000);
  });

  it('accepts a message of exactly the limit', () => {
    const text = JSON.stringify({ id: 1, result: 'y'.repeat(100) });
    expect(feed(new JsonMessageSplitter({ maxMessageBytes: text.length }), [Buffer.from(text)])).to.deep.equal([text]);
  });

  it('rejects nesting deeper than the limit without building it', () => {
    const deep = new JsonMessageSplitter({ maxDepth: 8 });
    const r = deep.push(Buffer.from('{"a":' + '['.repeat(100)));
    expect(r.error).to.match(/deeper than 8/);
    expect(feed(new JsonMessageSplitter({ maxDepth: 8 }), [Buffer.from('{"a":[[[[[[1]]]]]]}')])).to.have.length(1);
  });

  it('rejects anything but an object at the top level', () => {
    for (const junk of ['[1,2]', 'null', '"x"', 'HTTP/1.1 200 OK\r\n', '\u0000']) {
      const r = new JsonMessageSplitter().push(Buffer.from(junk));
      expect(r.error, junk).to.match(/expected '\{'/);
    }
  });

  it('survives random bytes with bounded memory and no exception', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 200; round++) {
      const splitter = new JsonMessageSplitter({ maxMessageBytes: 4096 });
      const alphabet = Buffer.from('{}[]"\\ a:,1');
      for (let i = 0; i < 50; i++) {
        const chunk = Buffer.from(Array.from({ length: 200 }, () => alphabet[Math.floor(rand() * alphabet.length)]!));
        chunk[0] = i === 0 ? 0x7b : chunk[0]!;
        const r = splitter.push(chunk);
        expect(splitter.buffered).to.be.at.most(4096);
        if (r.error !== undefined) break;
      }
    }
  });
});
