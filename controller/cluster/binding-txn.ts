// One binding event as one etcd transaction (pure: builds the request, reads the failure).
//
// Compare: the binding key is at the revision the proposer saw (0: absent, for a new binding);
// a locator address the event takes is not held (its key is absent); a new binding's MAC is
// not bound and its id is the store's next id. Then, in this order: the released record of a
// locator address the binding leaves (so a replica applying the revision rests the address
// before anything else), the index keys, and the binding last. On failure the same keys are
// read back, which says which comparison failed and what the binding is now.

import type * as RPC from 'etcd3';
import { isAway, type Binding, type BindingEvent, type StoreConflict, type StoreConflictReason } from '../mobility/index.js';
import type { StoreKeys } from './store-keys.js';
import { decodeEntry, encodeBinding, encodeHolder, encodeNextId, encodeReleased } from './store-values.js';

/** What each failure read is, in the order of the failure branch. */
type Probe = 'binding' | 'locator' | 'mac' | 'next-id';

export interface BindingTxn {
  readonly request: RPC.ITxnRequest;
  readonly probes: readonly Probe[];
}

export function bindingTxn(keys: StoreKeys, event: BindingEvent, expectedRevision: number): BindingTxn {
  const b = event.binding;
  const compare: RPC.ICompare[] = [{ key: buf(keys.binding(b.eid)), target: 'Mod', result: 'Equal', mod_revision: expectedRevision }];
  const success: RPC.IRequestOp[] = [];
  const put = (key: string, value: string) => success.push({ request_put: { key: buf(key), value: buf(value) } });
  const del = (key: string) => success.push({ request_delete_range: { key: buf(key) } });
  const takes = (subnet: string, address: string) => {
    compare.push({ key: buf(keys.locator(subnet, address)), target: 'Version', result: 'Equal', version: 0 });
    put(keys.locator(subnet, address), encodeHolder(b.eid));
    del(keys.released(subnet, address));
  };
  const leaves = (p: Binding) => {
    if (isAway(p)) put(keys.released(p.locator.subnet, p.locator.address), encodeReleased(event.at));
    del(keys.locator(p.locator.subnet, p.locator.address));
  };
  switch (event.type) {
    case 'BINDING_ADDED':
      compare.push({ key: buf(keys.mac(b.mac)), target: 'Version', result: 'Equal', version: 0 });
      compare.push({ key: buf(keys.nextId), target: 'Value', result: 'Equal', value: buf(encodeNextId(b.id)) });
      takes(b.locator.subnet, b.locator.address);
      put(keys.mac(b.mac), encodeHolder(b.eid));
      put(keys.nextId, encodeNextId(b.id + 1));
      put(keys.binding(b.eid), encodeBinding(b));
      break;
    case 'BINDING_MOVED': {
      const p = event.previous;
      if (keys.locator(p.locator.subnet, p.locator.address) !== keys.locator(b.locator.subnet, b.locator.address)) {
        leaves(p);
        takes(b.locator.subnet, b.locator.address);
      }
      put(keys.binding(b.eid), encodeBinding(b));
      break;
    }
    case 'BINDING_REMOVED':
      leaves(b);
      del(keys.mac(b.mac));
      del(keys.binding(b.eid));
      break;
  }
  // The failure branch reads every compared key, in compare order.
  const failure: RPC.IRequestOp[] = compare.map((c) => ({ request_range: { key: c.key } }));
  const probes = compare.map((c) => probeOf(String(c.key), event.binding, keys));
  return { request: { compare, success, failure }, probes };
}

/** Why the transaction failed, from its failure reads; `current` is the binding now. */
export function conflictOf(keys: StoreKeys, txn: BindingTxn, event: BindingEvent, expectedRevision: number, response: RPC.ITxnResponse): StoreConflict {
  const reasons: StoreConflictReason[] = [];
  let current: StoreConflict['current'];
  txn.probes.forEach((probe, i) => {
    const kv = response.responses[i]?.response_range?.kvs[0];
    switch (probe) {
      case 'binding': {
        const modRevision = kv === undefined ? 0 : Number(kv.mod_revision);
        if (modRevision !== expectedRevision) reasons.push('binding-changed');
        if (kv !== undefined) {
          const key = keys.binding(event.binding.eid);
          const entry = decodeEntry(key, { kind: 'binding', eid: event.binding.eid }, kv.value);
          if (entry.kind === 'binding') current = { binding: entry.binding, modRevision };
        }
        break;
      }
      case 'locator': if (kv !== undefined) reasons.push('locator-taken'); break;
      case 'mac': if (kv !== undefined) reasons.push('mac-taken'); break;
      case 'next-id': if (kv?.value.toString() !== encodeNextId(event.binding.id)) reasons.push('id-taken'); break;
    }
  });
  return { revision: Number(response.header.revision), reasons, current };
}

function probeOf(key: string, b: Binding, keys: StoreKeys): Probe {
  if (key === keys.binding(b.eid)) return 'binding';
  if (key === keys.nextId) return 'next-id';
  if (key === keys.mac(b.mac)) return 'mac';
  return 'locator';
}

function buf(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}
