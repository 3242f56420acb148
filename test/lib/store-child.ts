// A second process that uses a binding store, for tests that need real processes (the state dir
// lock, kill -9 during writes). Run: node --import tsx test/lib/store-child.ts MODE DIR
//   hold     load the store, print "ready", keep it until killed or stdin closes
//   append   load, then append the deterministic workload below from where the store is,
//            flushing in batches and printing "ack N" once op N is durable; until killed
// On failure it prints "error NAME: MESSAGE" and exits with status 3.

import { pathToFileURL } from 'node:url';
import { intToIpv4 } from '../../controller/packet/address.js';
import {
  BindingLedger, BindingStore, EMPTY_STATE, FileBindingRepository, type BindingEvent, type PersistedState,
} from '../../controller/mobility/index.js';

/**
 * Op i of an endless workload: odd ops learn endpoint (i+1)/2 at home in A, even ops move
 * endpoint i/2 to B. So after K ops there are ceil(K/2) bindings, and the newest one is in B
 * exactly when K is even: the state tells how far the workload got.
 */
export function workloadOp(store: BindingStore, i: number): BindingEvent {
  const n = Math.ceil(i / 2);
  const eid = intToIpv4(0x0a010000 + n); // 10.1.x.y
  const event = i % 2 === 1
    ? store.add({ eid, mac: `02:00:00:${hex(n >> 16)}:${hex(n >> 8)}:${hex(n)}`, homeSubnet: 'A', dpid: 1n, port: 1 + (n % 48) }, i)
    : store.move(eid, { subnet: 'B', dpid: 2n, port: 1 + (n % 48), address: intToIpv4(0x0a020000 + n) }, i);
  if (event === undefined) throw new Error(`workload op ${i} changed nothing`);
  return event;
}

export function opsDone(state: PersistedState): number {
  const n = state.bindings.length;
  if (n === 0) return 0;
  const newest = state.bindings[n - 1]!;
  return newest.locator.subnet === 'B' ? 2 * n : 2 * n - 1;
}

/** The state after ops 1..k. */
export function workloadState(k: number): PersistedState {
  const store = new BindingStore();
  const ledger = new BindingLedger();
  for (let i = 1; i <= k; i++) ledger.apply(workloadOp(store, i));
  return k === 0 ? EMPTY_STATE : ledger.state();
}

function hex(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

async function append(dir: string): Promise<never> {
  const repo = new FileBindingRepository({ dir, compactAfterBytes: 4096 });
  const state = await repo.load();
  const store = new BindingStore({ bindings: state.bindings, nextId: state.nextBindingId });
  const ledger = BindingLedger.of(state);
  process.stdout.write('ready\n');
  for (let i = opsDone(state) + 1; ; ) {
    const batch = 1 + (i % 3); // 1 to 3 records per write
    for (let j = 0; j < batch; j++, i++) {
      const event = workloadOp(store, i);
      repo.append(event);
      ledger.apply(event);
    }
    await repo.flush();
    process.stdout.write(`ack ${i - 1}\n`); // a pipe: written synchronously, before the next op
    if (repo.needsCompaction()) await repo.compact(ledger.state());
  }
}

async function hold(dir: string): Promise<void> {
  const repo = new FileBindingRepository({ dir });
  await repo.load();
  process.stdout.write('ready\n');
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
  await repo.close();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, dir] = process.argv.slice(2);
  const run = mode === 'append' ? append : mode === 'hold' ? hold : undefined;
  if (run === undefined || dir === undefined) {
    process.stderr.write('usage: store-child.ts hold|append DIR\n');
    process.exit(2);
  }
  run(dir).then(() => process.exit(0), (error: Error) => {
    process.stdout.write(`error ${error.name}: ${error.message}\n`);
    process.exit(3);
  });
}
