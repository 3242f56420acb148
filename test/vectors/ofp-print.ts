// The independent oracle: Open vSwitch's own decoder, `ovs-ofctl -O OpenFlow13 ofp-print HEX`.

import { execFile, spawnSync } from 'node:child_process';

export interface OfpPrint {
  readonly ok: boolean;
  readonly text: string;
}

function printArgs(bytes: Uint8Array): string[] {
  return ['-O', 'OpenFlow13', 'ofp-print', Buffer.from(bytes).toString('hex')];
}

function verdict(status: number | null, stdout: string, stderr: string): OfpPrint {
  const text = `${stdout}${stderr}`.trim();
  const bad = status !== 0 || /decode error|truncated|\*\*\*/i.test(text);
  return { ok: !bad, text };
}

/** OVS's text for the bytes; ok is false when OVS reports a decode error or truncation. */
export function ofpPrint(bytes: Uint8Array): OfpPrint {
  const r = spawnSync('ovs-ofctl', printArgs(bytes), { encoding: 'utf8' });
  return verdict(r.status, r.stdout ?? '', r.stderr ?? '');
}

/** ofpPrint for many messages, a few ovs-ofctl processes at a time. */
export async function ofpPrintAll(messages: readonly Uint8Array[], parallel = 4): Promise<OfpPrint[]> {
  const out: OfpPrint[] = new Array(messages.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < messages.length; i = next++) {
      out[i] = await new Promise<OfpPrint>((resolve) => {
        execFile('ovs-ofctl', printArgs(messages[i] as Uint8Array), { encoding: 'utf8' }, (err, stdout, stderr) => {
          resolve(verdict(err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr));
        });
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

export function ovsAvailable(): boolean {
  return spawnSync('ovs-ofctl', ['--version'], { encoding: 'utf8' }).status === 0;
}
