// Instruction lists (ofp_instruction_*) of FLOW_MOD and flow stats.

import { decodeActions, encodeActions } from './actions.js';
import * as C from './constants.js';
import { OFPBIC_BAD_LEN, OFPET_BAD_INSTRUCTION } from './error-codes.js';
import { fail } from './reader.js';
import type { Instruction } from './types.js';
import type { Writer } from './writer.js';

function encodeInstruction(w: Writer, ins: Instruction): void {
  const start = w.pos;
  switch (ins.type) {
    case 'GOTO_TABLE':
      w.u16(C.OFPIT_GOTO_TABLE); w.u16(8); w.u8(ins.tableId); w.zeros(3);
      return;
    case 'WRITE_METADATA':
      w.u16(C.OFPIT_WRITE_METADATA); w.u16(24); w.zeros(4); w.u64(ins.metadata); w.u64(ins.mask);
      return;
    case 'WRITE_ACTIONS':
    case 'APPLY_ACTIONS':
      w.u16(ins.type === 'WRITE_ACTIONS' ? C.OFPIT_WRITE_ACTIONS : C.OFPIT_APPLY_ACTIONS); w.u16(0); w.zeros(4);
      encodeActions(w, ins.actions);
      w.backfill16(start + 2, w.pos - start);
      return;
    case 'CLEAR_ACTIONS':
      w.u16(C.OFPIT_CLEAR_ACTIONS); w.u16(8); w.zeros(4);
      return;
    case 'METER':
      w.u16(C.OFPIT_METER); w.u16(8); w.u32(ins.meterId);
      return;
    case 'EXPERIMENTER':
      w.u16(C.OFPIT_EXPERIMENTER); w.u16(0); w.u32(ins.experimenter); w.bytes(ins.data);
      w.pad8(start);
      w.backfill16(start + 2, w.pos - start);
      return;
    case 'UNKNOWN':
      w.u16(ins.instructionType); w.u16(4 + ins.body.length); w.bytes(ins.body);
      return;
    default:
      throw new TypeError(`unknown instruction: ${JSON.stringify(ins)}`);
  }
}

export function encodeInstructions(w: Writer, instructions: readonly Instruction[]): void {
  for (const ins of instructions) encodeInstruction(w, ins);
}

function badLen(type: number, len: number): never {
  fail(`instruction type ${type} has length ${len}`, OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN);
}

function decodeInstruction(buf: Buffer, off: number, type: number, len: number): Instruction {
  const body = off + 4;
  switch (type) {
    case C.OFPIT_GOTO_TABLE:
      if (len !== 8) badLen(type, len);
      return { type: 'GOTO_TABLE', tableId: buf[body] as number };
    case C.OFPIT_WRITE_METADATA:
      if (len !== 24) badLen(type, len);
      return { type: 'WRITE_METADATA', metadata: buf.readBigUInt64BE(off + 8), mask: buf.readBigUInt64BE(off + 16) };
    case C.OFPIT_WRITE_ACTIONS:
    case C.OFPIT_APPLY_ACTIONS:
      return {
        type: type === C.OFPIT_WRITE_ACTIONS ? 'WRITE_ACTIONS' : 'APPLY_ACTIONS',
        actions: decodeActions(buf, off + 8, off + len),
      };
    case C.OFPIT_CLEAR_ACTIONS:
      if (len !== 8) badLen(type, len);
      return { type: 'CLEAR_ACTIONS' };
    case C.OFPIT_METER:
      if (len !== 8) badLen(type, len);
      return { type: 'METER', meterId: buf.readUInt32BE(body) };
    case C.OFPIT_EXPERIMENTER:
      return { type: 'EXPERIMENTER', experimenter: buf.readUInt32BE(body), data: buf.subarray(off + 8, off + len) };
    default:
      return { type: 'UNKNOWN', instructionType: type, body: buf.subarray(body, off + len) };
  }
}

/** Decodes the instruction list in [off, end). Each instruction is >= 8 bytes, a multiple of 8. */
export function decodeInstructions(buf: Buffer, off: number, end: number): Instruction[] {
  const out: Instruction[] = [];
  while (off < end) {
    if (off + 4 > end) fail('instruction header truncated', OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN);
    const type = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    if (len < 8 || (len & 7) !== 0 || off + len > end) badLen(type, len);
    out.push(decodeInstruction(buf, off, type, len));
    off += len;
  }
  return out;
}
