// `seamless store`: offline tools for a state dir (docs/security.md, "Binding store").
//   verify DIR    checks every byte the controller would load, read-only (it takes no lock and
//                 writes nothing, so it is safe beside a running controller) and prints what it
//                 found. Exit 0: the controller would load it; 1: it would refuse it (the
//                 problem is named) or there is no store; 2: usage.
//   migrate DIR   converts a store of the first format (no checksums) after checking it; takes
//                 the dir's lock, so the controller must be stopped.
// Run: node dist/controller/store-cli.js verify DIR   (or: npm run store -- verify DIR)

import { pathToFileURL } from 'node:url';
import {
  isAway, migrateV1Store, readStore, readV1Store, StateDirLock, StoreCorruptError, StoreFormatError, type StoreImage,
} from './mobility/index.js';

export interface CliResult {
  readonly code: number;
  readonly out: string[];
}

const USAGE = 'usage: store-cli verify DIR | store-cli migrate DIR';

export async function runStoreCli(args: readonly string[]): Promise<CliResult> {
  const [command, dir, ...rest] = args;
  if (dir === undefined || rest.length > 0) return { code: 2, out: [USAGE] };
  if (command === 'verify') return verify(dir);
  if (command === 'migrate') return migrate(dir);
  return { code: 2, out: [USAGE] };
}

async function verify(dir: string): Promise<CliResult> {
  const out = [`state dir ${dir}`];
  const holder = await StateDirLock.inspect(dir).catch(() => undefined);
  if (holder === undefined) out.push('  lock      free');
  else if (holder.status === 'gone') out.push(`  lock      stale (pid ${holder.owner?.pid} is gone; the next start removes it)`);
  else out.push(`  lock      held by pid ${holder.owner?.pid ?? '?'} on ${holder.owner?.host ?? '?'} (${holder.status}): checked read-only, a torn last record may be a write in progress`);
  try {
    const image = await readStore(dir);
    if (image === undefined) return { code: 1, out: [...out, 'NOT FOUND  no binding store in this directory'] };
    out.push(...describe(image), 'OK  the controller would load this store');
    return { code: 0, out };
  } catch (error) {
    if (error instanceof StoreFormatError) return { code: 1, out: [...out, `OLD FORMAT  ${error.message}`] };
    if (error instanceof StoreCorruptError) return { code: 1, out: [...out, `CORRUPT  ${error.message}`, 'the controller refuses to start on this store; see docs/security.md "Binding store" to recover'] };
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { code: 1, out: [...out, `NOT FOUND  ${(error as Error).message}`] };
    throw error;
  }
}

function describe(image: StoreImage): string[] {
  const { snapshot, journal, state } = image;
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `  store     ${image.storeId} (format v2)`,
    `  snapshot  ${snapshot.file}: ${n(snapshot.bindings)} bindings, ${n(snapshot.released)} released addresses, covers up to seq ${n(snapshot.lastSeq)} (${n(snapshot.bytes)} bytes)`,
    `  journal   ${journal.file}: ${journal.records === 0 ? 'no records' : `seq ${n(journal.follows + 1)}..${n(journal.lastSeq)}`} (${n(journal.records)} records, ${n(journal.applied)} after the snapshot, ${n(journal.goodBytes)} bytes)`,
    `  state     ${n(state.bindings.length)} bindings (${n(state.bindings.filter(isAway).length)} away from home), next id ${n(state.nextBindingId)}, ${n(state.released.length)} released addresses, last seq ${n(journal.lastSeq)}`,
  ];
  if (journal.torn !== undefined) lines.push(`  warning   torn last record at line ${journal.torn.line} (${journal.torn.bytes} bytes, a crash during an append): the controller drops it on its next start`);
  if (journal.fromTemp) lines.push('  warning   the journal is still under its temporary name (a crash while the store was created): the controller finishes the rename on its next start');
  return lines;
}

async function migrate(dir: string): Promise<CliResult> {
  const lock = await StateDirLock.acquire(dir);
  try {
    const v1 = await readV1Store(dir);
    if (v1 === undefined) {
      const image = await readStore(dir);
      return image === undefined
        ? { code: 1, out: [`NOT FOUND  no binding store in ${dir}`] }
        : { code: 0, out: [`${dir} already holds a v2 store (${image.state.bindings.length} bindings): nothing to do`] };
    }
    await migrateV1Store(dir, v1);
    const image = await readStore(dir);
    if (image === undefined) throw new Error(`${dir}: the migrated store is missing`);
    return {
      code: 0,
      out: [
        `migrated ${dir} from format v1: ${v1.state.bindings.length} bindings, ${v1.records} journal records (snapshot up to seq ${v1.snapshotSeq}, last seq ${v1.lastSeq})`,
        ...(v1.tornLine === undefined ? [] : [`  dropped a torn last journal record (line ${v1.tornLine})`]),
        ...describe(image),
        'the v1 files are kept as *.v1-migrated',
      ],
    };
  } catch (error) {
    if (error instanceof StoreCorruptError) return { code: 1, out: [`CORRUPT  ${error.message}`, 'nothing was converted'] };
    throw error;
  } finally {
    await lock.release();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runStoreCli(process.argv.slice(2)).then(
    ({ code, out }) => {
      process.stdout.write(out.join('\n') + '\n');
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`store-cli: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
