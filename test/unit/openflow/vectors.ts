// Loads the golden vectors captured from Open vSwitch 3.1 (test/vectors/ovs-3.1, see capture.ts).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodeError, OfpMessage } from '../../../controller/openflow/index.js';
import { parseTagged } from '../../vectors/vector-json.js';

export const VECTOR_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../vectors/ovs-3.1');

export interface Vector {
  readonly name: string;
  readonly direction: 'switch-to-controller' | 'controller-to-switch';
  readonly source: string;
  readonly hex: string;
  readonly ofpPrint: string;
  /** What the bytes decode to, or the error when they are not OpenFlow 1.3. */
  readonly message?: OfpMessage;
  readonly decodeError?: DecodeError;
  readonly bytes: Buffer;
}

export function loadVectors(): Vector[] {
  return readdirSync(VECTOR_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const v = parseTagged<Omit<Vector, 'bytes'>>(readFileSync(join(VECTOR_DIR, f), 'utf8'));
      return { ...v, bytes: Buffer.from(v.hex, 'hex') };
    });
}

export function loadVector(name: string): Vector {
  const v = loadVectors().find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
}

/** `ovs-ofctl dump-flows` lines captured with the multipart-reply-flow vector. */
export function loadDumpFlows(): string[] {
  return readFileSync(join(VECTOR_DIR, 'dump-flows.txt'), 'utf8').split('\n').filter((l) => l !== '');
}
