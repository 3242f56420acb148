// One replica's mastership in a process of its own, for tests that kill -9 or SIGSTOP it.
// Run: node --import tsx test/lib/mastership-child.ts ENDPOINTS PREFIX REPLICA TTL_MS [STEP_MS] [liveness|lease-only]
// stdin, one command a line:  connect DPID_HEX | disconnect DPID_HEX | view | stop
// stdout, one JSON object a line (t: when it was printed, epoch ms):
//   {"type":"ready"}
//   {"type":"role","dpid":"…","role":"master"|"slave","generationId":"…","since":…,"t":…}
//   {"type":"view","replicas":[…],"masters":{"dpid":"replica"},"roles":{"dpid":"master"},"leaseAlive":…,"t":…}
// On failure it prints {"type":"error","message":…} and exits with status 3.

import { createInterface } from 'node:readline';
import { connectEtcd } from '../../controller/cluster/etcd-client.js';
import { Mastership } from '../../controller/cluster/mastership.js';
import { formatDpid } from '../../controller/switch/dpid.js';

const print = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, t: Date.now() })}\n`);

async function main(): Promise<void> {
  const [endpoints, prefix, replicaId, ttl, step, detector] = process.argv.slice(2);
  if (endpoints === undefined || prefix === undefined || replicaId === undefined || ttl === undefined) {
    throw new Error('usage: mastership-child.ts ENDPOINTS PREFIX REPLICA TTL_MS [STEP_MS] [liveness|lease-only]');
  }
  const client = connectEtcd({ endpoints: endpoints.split(','), requestTimeoutMs: 300 });
  const liveness = detector === 'lease-only' ? {} : { liveness: { host: '127.0.0.1', port: 0 } };
  const mastership = new Mastership({ client, prefix, replicaId, ttlMs: Number(ttl), stepMs: Number(step ?? 100), ...liveness });
  mastership.roles$.subscribe((e) => print({ type: 'role', dpid: formatDpid(e.dpid), role: e.role, generationId: e.generationId.toString(), since: e.since }));
  await mastership.start();
  print({ type: 'ready' });
  const connected = new Set<bigint>();
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, arg] = line.trim().split(/\s+/);
    if (command === 'connect' && arg !== undefined) {
      connected.add(BigInt(`0x${arg}`));
      mastership.connected(BigInt(`0x${arg}`));
    } else if (command === 'disconnect' && arg !== undefined) {
      connected.delete(BigInt(`0x${arg}`));
      mastership.disconnected(BigInt(`0x${arg}`));
    } else if (command === 'view') {
      const v = mastership.view();
      print({
        type: 'view', replicas: v.replicas, leaseAlive: v.leaseAlive,
        masters: Object.fromEntries([...v.masters].map(([d, r]) => [formatDpid(d), r])),
        roles: Object.fromEntries([...connected].map((d) => [formatDpid(d), mastership.role(d)])),
      });
    } else if (command === 'stop') {
      break;
    }
  }
  await mastership.stop();
  client.close();
}

main().then(() => process.exit(0), (error: Error) => {
  print({ type: 'error', message: error.message });
  process.exit(3);
});
