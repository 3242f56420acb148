// Captures a raw OVSDB monitor session from a real Open vSwitch 3.1 (run as root:
// `npx tsx test/vectors/ovsdb-capture.ts`): the bytes ovsdb-server sends to a client that monitors
// Bridge, Port and Interface (the columns the attachment watcher asks for) while ovs-vsctl adds a
// netdev bridge with a VM-like port (external_ids as libvirt writes them, plus a value full of
// braces, quotes and backslashes), changes it and deletes it. Stored as received, no delimiters.
// Everything created here (vecdb0 and its ports) is deleted again at the end.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTACHMENT_COLUMNS } from '../../controller/ovsdb/index.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'ovsdb-3.1', 'attachment-monitor.stream');
const BR = 'vecdb0';
const vsctl = (...a: string[]) => execFileSync('ovs-vsctl', ['--timeout=10', ...a], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  const socket = createConnection('/var/run/openvswitch/db.sock');
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((r) => socket.once('connect', r));
  const monitor = Object.fromEntries(Object.entries(ATTACHMENT_COLUMNS).map(([t, c]) => [t, { columns: [...c] }]));
  socket.write(JSON.stringify({ method: 'monitor', params: ['Open_vSwitch', 'seamless-attachments', monitor], id: 1 }));
  await sleep(300);
  try {
    vsctl('add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', 'other-config:datapath-id=00000000000000a1');
    vsctl('add-port', BR, 'vecvnet0', '--', 'set', 'interface', 'vecvnet0', 'type=internal', 'ofport_request=5',
      'external_ids:attached-mac="52:54:00:AB:CD:01"', 'external_ids:iface-id="0b7e2c8a-5d7e-4d49-9a57-6a1f3c2b9e10"',
      'external_ids:vm-id="3f1c9a52-8d0e-4a4b-b1f6-2f5e8c7d6a91"', 'external_ids:iface-status=active',
      'external_ids:note="{\\"}\\\\\\" ][\\\\\\"}"');
    await sleep(300);
    vsctl('set', 'interface', 'vecvnet0', 'ofport_request=6');
    await sleep(300);
    vsctl('del-port', BR, 'vecvnet0');
    await sleep(300);
  } finally {
    vsctl('--if-exists', 'del-br', BR);
  }
  await sleep(300);
  socket.destroy();
  writeFileSync(OUT, Buffer.concat(chunks));
  console.log(`wrote ${OUT} (${Buffer.concat(chunks).length} bytes)`);
}

await main();
