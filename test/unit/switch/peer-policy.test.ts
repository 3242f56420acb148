// The pure parts of issue 9's switch side: switch-supplied text, the log throttle, dpid admission.

import { expect } from 'chai';
import { createLogger } from '../../../controller/log.js';
import { certificateMatches, DpidAdmission, normalizeAddress, type PeerCertificate } from '../../../controller/switch/admission.js';
import { peerText } from '../../../controller/switch/peer-text.js';
import { LogThrottle } from '../../../controller/switch/throttle.js';

describe('switch/peer-text', () => {
  it('escapes controls, backslashes, line separators and bidi overrides; keeps plain text as is', () => {
    expect(peerText('eth0')).to.equal('eth0');
    expect(peerText('a\nb\r\x1b[2J\x7f\x85')).to.equal('a\\x0ab\\x0d\\x1b[2J\\x7f\\x85');
    expect(peerText('x\\x0a')).to.equal('x\\\\x0a'); // an escape in the input cannot pass for one of ours
    expect(peerText('evil\u202etxt.exe\u2028')).to.equal('evil\\u202etxt.exe\\u2028');
  });

  it('cuts long text and says how much was cut, for strings and bytes', () => {
    expect(peerText('y'.repeat(300))).to.equal(`${'y'.repeat(256)}...[44 more]`);
    expect(peerText(Buffer.from('z'.repeat(70000)), 8)).to.equal('zzzzzzzz...[69992 more]');
    expect(peerText(Uint8Array.of(0x41, 0x00, 0xff))).to.equal('A\\x00\u00ff');
  });
});

describe('switch/throttle', () => {
  it('logs N lines per kind per window, counts the rest, and reports them with the next line', () => {
    let now = 0;
    const lines: Record<string, unknown>[] = [];
    const suppressed: string[] = [];
    const log = createLogger({ level: 'info', format: 'json', sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const throttle = new LogThrottle({ linesPerWindow: 2, windowMs: 1000, now: () => now, onSuppressed: (m) => suppressed.push(m) });
    for (let i = 0; i < 5; i++) throttle.warn(log, 'bad', { i });
    throttle.warn(log, 'other');
    expect(lines.map((l) => `${l.msg}${l.i ?? ''}`)).to.deep.equal(['bad0', 'bad1', 'other']);
    expect(suppressed).to.deep.equal(['bad', 'bad', 'bad']);
    now = 1000;
    throttle.warn(log, 'bad', { i: 9 });
    expect(lines.at(-1)).to.include({ msg: 'bad', i: 9, suppressedBefore: 3 });
  });
});

describe('switch/admission', () => {
  const cert = (fp: string, cn = 'sw1 id:x', altNames: string[] = []): PeerCertificate => ({ subjectCN: cn, altNames, fingerprint256: fp });
  const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':');

  it('normalizes IPv4-mapped addresses and matches certificates by CN, SAN or fingerprint', () => {
    expect(normalizeAddress('::ffff:10.0.0.1')).to.equal('10.0.0.1');
    expect(normalizeAddress('FE80::1')).to.equal('fe80::1');
    expect(certificateMatches('sw1 id:x', cert(FP))).to.equal(true);
    expect(certificateMatches('edge-a', cert(FP, 'x', ['edge-a']))).to.equal(true);
    expect(certificateMatches(FP.replace(/:/g, '').toLowerCase(), cert(FP))).to.equal(true);
    expect(certificateMatches(`sha256:${FP}`, cert(FP))).to.equal(true);
    expect(certificateMatches('sw2 id:x', cert(FP))).to.equal(false);
    expect(certificateMatches(FP, undefined)).to.equal(false);
  });

  it('keeps the established switch, or lets the newcomer replace it, per policy', () => {
    const keep = new DpidAdmission({ duplicateDpid: 'keep-established', pinning: 'none', pins: [] });
    expect(keep.check(1n, { address: '10.0.0.1' }, false)).to.deep.equal({ ok: true, replaces: false });
    expect(keep.check(1n, { address: '10.0.0.1' }, true)).to.include({ ok: false, kind: 'duplicate_dpid' });
    const replace = new DpidAdmission({ duplicateDpid: 'replace', pinning: 'none', pins: [] });
    expect(replace.check(1n, { address: '10.0.0.1' }, true)).to.deep.equal({ ok: true, replaces: true });
  });

  it('pins on first use, refuses without the identity pinning needs, and stops learning at its bound', () => {
    const byCert = new DpidAdmission({ duplicateDpid: 'keep-established', pinning: 'certificate', pins: [], maxLearnedPins: 1 });
    expect(byCert.check(1n, { address: 'a' }, false)).to.include({ ok: false, kind: 'pin_mismatch' }); // no certificate at all
    byCert.learn(1n, { address: 'a', certificate: cert(FP) });
    expect(byCert.pinOf(1n)).to.equal(FP);
    expect(byCert.check(1n, { address: 'b', certificate: cert(FP) }, false).ok).to.equal(true);
    expect(byCert.check(1n, { address: 'a', certificate: cert('00') }, false)).to.include({ ok: false, kind: 'pin_mismatch' });
    expect(byCert.check(2n, { address: 'a', certificate: cert('00') }, false)).to.deep.include({ ok: false, reason: 'datapath 0000000000000002: 1 datapaths are pinned already (a new one is refused)' });
  });
});
