// Datapath ids are 64-bit: bigint in code, 16 lower-case hex digits in text (as ovs-ofctl prints them).

export function formatDpid(dpid: bigint): string {
  return dpid.toString(16).padStart(16, '0');
}

/** Accepts a bigint, '0000000000000001', '0x1' or '00:00:00:00:00:00:00:01'. */
export function parseDpid(dpid: bigint | string): bigint {
  if (typeof dpid === 'bigint') return dpid;
  const hex = dpid.trim().toLowerCase().replace(/^0x/, '').replace(/:/g, '');
  if (!/^[0-9a-f]{1,16}$/.test(hex)) throw new Error(`not a datapath id: ${JSON.stringify(dpid)}`);
  return BigInt('0x' + hex);
}
