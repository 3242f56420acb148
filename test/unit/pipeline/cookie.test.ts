import { expect } from 'chai';
import { bindingCookie, classifyCookie, COOKIE_BASE, COOKIE_LEARNER, isCompiledCookie } from '../../../controller/pipeline/index.js';
import { MAX_BINDING_ID } from '../../../controller/mobility/index.js';

describe('pipeline/cookie', () => {
  it('packs (bindingId << 32) | version', () => {
    expect(bindingCookie(1, 2)).to.equal(0x1_0000_0002n);
    expect(bindingCookie(MAX_BINDING_ID, 0xffffffff)).to.equal(0x5e9f_ffff_ffff_ffffn);
    expect(() => bindingCookie(0, 1)).to.throw(RangeError);
    expect(() => bindingCookie(MAX_BINDING_ID + 1, 1)).to.throw(RangeError);
  });

  const table: [bigint, ReturnType<typeof classifyCookie>][] = [
    [0x1_0000_0002n, { kind: 'binding', bindingId: 1, version: 2 }],
    [0x5e9f_ffff_0000_0001n, { kind: 'binding', bindingId: MAX_BINDING_ID, version: 1 }],
    [COOKIE_BASE, { kind: 'base' }],
    [COOKIE_BASE | 7n, { kind: 'base' }],
    [COOKIE_LEARNER, { kind: 'learner' }],
    [0n, { kind: 'foreign' }],
    [0xffff_ffffn, { kind: 'foreign' }],
    [0x5ea2_0000_0000_0000n, { kind: 'foreign' }],
    [0xffff_ffff_ffff_ffffn, { kind: 'foreign' }],
  ];
  for (const [cookie, want] of table) {
    it(`classifies 0x${cookie.toString(16)} as ${want.kind}`, () => {
      expect(classifyCookie(cookie)).to.deep.equal(want);
      expect(isCompiledCookie(cookie)).to.equal(want.kind === 'base' || want.kind === 'binding');
    });
  }
});
