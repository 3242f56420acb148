// The cookie space. A resync reads every flow of a switch and must tell Seamless's rules apart:
//   (bindingId << 32) | version    per-binding rules (ids 1..0x5e9fffff, so the top 16 bits stay below 0x5ea0)
//   0x5ea0_xxxx_xxxx_xxxx          base rules of the pipeline
//   0x5ea1_xxxx_xxxx_xxxx          rules of the L2 learner (learned sources and destinations)
// Anything else (cookie 0 from ovs-ofctl, other controllers) is foreign and left alone.

import { MAX_BINDING_ID } from '../mobility/binding.js';

export const COOKIE_TAG_MASK = 0xffff_0000_0000_0000n;
export const COOKIE_BASE = 0x5ea0_0000_0000_0000n;
export const COOKIE_LEARNER = 0x5ea1_0000_0000_0000n;
/** Matches every bit: DELETE_STRICT with this mask removes a rule only if it still has that exact cookie. */
export const COOKIE_MASK_EXACT = 0xffff_ffff_ffff_ffffn;

export function bindingCookie(bindingId: number, version: number): bigint {
  if (!Number.isInteger(bindingId) || bindingId < 1 || bindingId > MAX_BINDING_ID) throw new RangeError(`binding id ${bindingId} outside 1..${MAX_BINDING_ID}`);
  return (BigInt(bindingId) << 32n) | BigInt(version >>> 0);
}

export type CookieClass =
  | { readonly kind: 'binding'; readonly bindingId: number; readonly version: number }
  | { readonly kind: 'base' }
  | { readonly kind: 'learner' }
  | { readonly kind: 'foreign' };

export function classifyCookie(cookie: bigint): CookieClass {
  const tag = cookie & COOKIE_TAG_MASK;
  if (tag === COOKIE_BASE) return { kind: 'base' };
  if (tag === COOKIE_LEARNER) return { kind: 'learner' };
  const id = Number(cookie >> 32n);
  if (id >= 1 && id <= MAX_BINDING_ID) return { kind: 'binding', bindingId: id, version: Number(cookie & 0xffff_ffffn) };
  return { kind: 'foreign' };
}

/** Rules the compiler owns (base and per-binding): the only ones a plan may add or remove. */
export function isCompiledCookie(cookie: bigint): boolean {
  const k = classifyCookie(cookie).kind;
  return k === 'base' || k === 'binding';
}
