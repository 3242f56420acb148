// ofp_port (PORT_STATUS and the PORT_DESC multipart reply).

import { readMac } from './addr.js';
import { exact, fail, readCString } from './reader.js';
import type { Port, PortStatus } from './types.js';
import type { Writer } from './writer.js';

export const OFP_PORT_LEN = 64;
const OFP_MAX_PORT_NAME_LEN = 16;

export function encodePort(w: Writer, p: Port): void {
  w.u32(p.portNo);
  w.zeros(4);
  w.mac(p.hwAddr);
  w.zeros(2);
  w.cString(p.name, OFP_MAX_PORT_NAME_LEN);
  w.u32(p.config);
  w.u32(p.state);
  w.u32(p.curr);
  w.u32(p.advertised);
  w.u32(p.supported);
  w.u32(p.peer);
  w.u32(p.currSpeed);
  w.u32(p.maxSpeed);
}

/** Decodes the 64-byte ofp_port at `off` (the caller checked it is in bounds). */
export function decodePort(buf: Buffer, off: number): Port {
  return {
    portNo: buf.readUInt32BE(off),
    hwAddr: readMac(buf, off + 8),
    name: readCString(buf, off + 16, OFP_MAX_PORT_NAME_LEN),
    config: buf.readUInt32BE(off + 32),
    state: buf.readUInt32BE(off + 36),
    curr: buf.readUInt32BE(off + 40),
    advertised: buf.readUInt32BE(off + 44),
    supported: buf.readUInt32BE(off + 48),
    peer: buf.readUInt32BE(off + 52),
    currSpeed: buf.readUInt32BE(off + 56),
    maxSpeed: buf.readUInt32BE(off + 60),
  };
}

/** A packed array of ofp_port (the PORT_DESC reply body). */
export function decodePorts(buf: Buffer, off: number, end: number): Port[] {
  if ((end - off) % OFP_PORT_LEN !== 0) fail(`ofp_port array of ${end - off} bytes`);
  const ports: Port[] = [];
  for (let p = off; p < end; p += OFP_PORT_LEN) ports.push(decodePort(buf, p));
  return ports;
}

export function encodePortStatus(w: Writer, msg: PortStatus): void {
  w.u8(msg.reason);
  w.zeros(7);
  encodePort(w, msg.port);
}

export function decodePortStatus(buf: Buffer, off: number, end: number, xid: number): PortStatus {
  exact(off, 8 + OFP_PORT_LEN, end, 'ofp_port_status');
  return { type: 'PORT_STATUS', xid, reason: buf[off] as number, port: decodePort(buf, off + 8) };
}
