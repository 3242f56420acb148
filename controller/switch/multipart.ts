// Reassembly of multipart replies split with OFPMPF_REPLY_MORE, pure: list bodies are concatenated.

import type { MultipartReplyBody } from '../openflow/types.js';

/** Merges the bodies of one multipart reply sequence, in arrival order. */
export function mergeMultipartBodies(parts: readonly MultipartReplyBody[]): MultipartReplyBody {
  const first = parts[0];
  if (first === undefined) throw new Error('a multipart reply has at least one part');
  if (parts.length === 1) return first;
  switch (first.kind) {
    case 'FLOW': return { kind: 'FLOW', flows: parts.flatMap((p) => (p.kind === 'FLOW' ? p.flows : [])) };
    case 'TABLE': return { kind: 'TABLE', tables: parts.flatMap((p) => (p.kind === 'TABLE' ? p.tables : [])) };
    case 'PORT_STATS': return { kind: 'PORT_STATS', ports: parts.flatMap((p) => (p.kind === 'PORT_STATS' ? p.ports : [])) };
    case 'PORT_DESC': return { kind: 'PORT_DESC', ports: parts.flatMap((p) => (p.kind === 'PORT_DESC' ? p.ports : [])) };
    case 'GROUP_DESC': return { kind: 'GROUP_DESC', groups: parts.flatMap((p) => (p.kind === 'GROUP_DESC' ? p.groups : [])) };
    case 'UNKNOWN': return { ...first, body: Buffer.concat(parts.map((p) => (p.kind === 'UNKNOWN' ? p.body : new Uint8Array()))) };
    // Single-struct replies are never split in practice; keep the last one.
    case 'DESC':
    case 'AGGREGATE':
      return parts[parts.length - 1]!;
  }
}
