// The test etcd itself (test/lib/etcd-cluster.ts): its own ports, data that survives restarts,
// and nothing left behind.

import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { connectEtcd } from '../../../controller/cluster/etcd-client.js';
import { EtcdCluster } from '../../lib/etcd-cluster.js';

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('test/lib/etcd-cluster', function () {
  this.timeout(60_000);

  it('runs on free loopback ports, keeps data across a restart and a pause, and removes every process and file it made', async () => {
    const cluster = await EtcdCluster.start({ members: 1 });
    const pids: number[] = [];
    try {
      expect(cluster.endpoints).to.have.length(1);
      expect(cluster.endpoints[0]).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(cluster.endpoints[0]).to.not.match(/:2379$/);
      const client = connectEtcd({ endpoints: cluster.endpoints });
      await client.put('k').value('v');
      pids.push(cluster.pid(0)!);
      await cluster.kill(0);
      expect(alive(pids[0]!)).to.equal(false);
      await cluster.restart(0);
      pids.push(cluster.pid(0)!);
      await cluster.pause(0);
      const answer = await fetch(`${cluster.endpoints[0]}/health`, { signal: AbortSignal.timeout(500) }).then(() => 'answered', () => 'silent');
      expect(answer, 'a paused member answers nothing').to.equal('silent');
      cluster.resume(0);
      await cluster.waitHealthy();
      expect(await client.get('k').string()).to.equal('v');
      client.close();
      await cluster.pause(0); // destroy() must end a stopped member too
    } finally {
      await cluster.destroy();
    }
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).to.equal(false);
    expect(existsSync(cluster.dir)).to.equal(false);
  });
});
