// The dead-replica detector: its verdicts (pure), then real loopback sockets: a peer that dies is
// declared dead once; a peer that hangs, a listener that is not the peer, or an address that never
// answered, never is (their death is the lease's business).

import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { greeting, parseGreeting, PeerLiveness, splitAddress, verdict, type LivenessPeer } from '../../../controller/cluster/peer-liveness.js';
import { waitUntil } from '../../lib/wait.js';

const ID = '123e4567-e89b-12d3-a456-426614174000';
const OTHER = '123e4567-e89b-12d3-a456-426614174001';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cluster/peer-liveness', () => {
  describe('verdicts', () => {
    it('a refusal is a death only after the peer once greeted on that address', () => {
      expect(verdict('r2', undefined, { kind: 'refused' })).to.deep.equal({ kind: 'retry' });
      expect(verdict('r2', ID, { kind: 'refused' }).kind).to.equal('dead');
    });

    it('another instance of the peer on its port means the old one is gone; another replica there proves nothing', () => {
      expect(verdict('r2', ID, { kind: 'greeted', replica: 'r2', instance: OTHER }).kind).to.equal('dead');
      expect(verdict('r2', ID, { kind: 'greeted', replica: 'r2', instance: ID })).to.deep.equal({ kind: 'alive', instance: ID });
      expect(verdict('r2', ID, { kind: 'greeted', replica: 'r3', instance: OTHER })).to.deep.equal({ kind: 'retry' });
    });

    it('timeouts and resets prove nothing', () => {
      expect(verdict('r2', ID, { kind: 'unclear', why: 'ETIMEDOUT' })).to.deep.equal({ kind: 'retry' });
    });

    it('greetings round-trip, odd names included; anything else is no greeting', () => {
      expect(parseGreeting(greeting('c 1/é', ID).trimEnd())).to.deep.equal({ replica: 'c 1/é', instance: ID });
      for (const bad of ['', 'HTTP/1.1 200 OK', `seamless-liveness 2 r1 ${ID}`, 'seamless-liveness 1 r1 nope', 'seamless-liveness 1 %E0%A4%A r1']) {
        expect(parseGreeting(bad), bad).to.equal(undefined);
      }
    });

    it('addresses: host:port and [v6]:port; port 0 only to listen', () => {
      expect(splitAddress('127.0.0.1:6000')).to.deep.equal({ host: '127.0.0.1', port: 6000 });
      expect(splitAddress('[::1]:6000')).to.deep.equal({ host: '::1', port: 6000 });
      expect(splitAddress('c1.lab:7')).to.deep.equal({ host: 'c1.lab', port: 7 });
      expect(splitAddress('127.0.0.1:0')).to.equal(undefined);
      expect(splitAddress('127.0.0.1:0', true)).to.deep.equal({ host: '127.0.0.1', port: 0 });
      for (const bad of ['', '127.0.0.1', ':80', '1.2.3.4:65536', 'a b:1', 'http://x:1']) expect(splitAddress(bad), bad).to.equal(undefined);
    });
  });

  describe('on loopback sockets', () => {
    const open: (PeerLiveness | Server)[] = [];
    afterEach(async () => {
      for (const o of open.splice(0)) {
        if (o instanceof PeerLiveness) await o.close();
        else await new Promise((resolve) => o.close(resolve));
      }
    });

    function detector(replicaId: string, dead: string[]): PeerLiveness {
      const d = new PeerLiveness({ replicaId, listen: { host: '127.0.0.1', port: 0 }, retryMs: 50, connectTimeoutMs: 200, onDead: (p, why) => dead.push(`${p.replica}/${p.lease}: ${why}`) });
      open.push(d);
      return d;
    }

    async function listening(onConnection: Parameters<typeof createServer>[1]): Promise<{ server: Server; address: string }> {
      const server = createServer(onConnection);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      open.push(server);
      const a = server.address() as { port: number };
      return { server, address: `127.0.0.1:${a.port}` };
    }

    it('a peer whose process goes: declared dead once, with the lease it held', async () => {
      const dead: string[] = [];
      const watcher = detector('r1', dead);
      const peer = detector('r2', []);
      await watcher.listen();
      const address = await peer.listen();
      watcher.track([{ replica: 'r2', lease: '42', address }, { replica: 'r1', lease: '41', address: watcher.address! }]);
      await waitUntil(() => watcher.verified().includes('r2'), { timeoutMs: 2000, what: 'the connection to r2' });
      expect(watcher.verified(), 'not itself').to.deep.equal(['r2']);
      await peer.close(); // what a dying process's kernel does: its connections end, its port refuses
      await waitUntil(() => dead.length > 0, { timeoutMs: 2000, what: 'r2 declared dead' });
      await sleep(300);
      expect(dead).to.deep.equal(['r2/42: its liveness port refuses connections']);
    });

    it('another instance on the dead one\'s port: the old lease is declared dead', async () => {
      const dead: string[] = [];
      const watcher = detector('r1', dead);
      const first = detector('r2', []);
      const address = await first.listen();
      watcher.track([{ replica: 'r2', lease: '42', address }]);
      await waitUntil(() => watcher.verified().includes('r2'), { timeoutMs: 2000, what: 'the connection to r2' });
      await first.close();
      const port = Number(address.split(':')[1]);
      const second = new PeerLiveness({ replicaId: 'r2', listen: { host: '127.0.0.1', port }, onDead: () => undefined });
      open.push(second);
      await second.listen();
      await waitUntil(() => dead.length > 0, { timeoutMs: 2000, what: 'the old r2 declared dead' });
      expect(dead[0]).to.match(/^r2\/42: /);
    });

    it('a peer that hangs (accepts, never greets) or a listener that is someone else: never declared dead', async () => {
      const dead: string[] = [];
      const watcher = detector('r1', dead);
      const hung = await listening(() => undefined);
      const stranger = await listening((s) => s.end(greeting('r9', OTHER)));
      watcher.track([{ replica: 'r2', lease: '42', address: hung.address }, { replica: 'r3', lease: '43', address: stranger.address }]);
      await sleep(600);
      await new Promise((resolve) => stranger.server.close(resolve)); // refuses from now on
      await sleep(300);
      expect(watcher.verified()).to.deep.equal([]);
      expect(dead).to.deep.equal([]);
    });

    it('an address that never answered, then refuses: not declared dead; a new lease restarts the watch', async () => {
      const dead: string[] = [];
      const watcher = detector('r1', dead);
      const peer = detector('r2', []);
      const address = await peer.listen();
      watcher.track([{ replica: 'r2', lease: '42', address: '127.0.0.1:1' }]);
      await sleep(200);
      expect(dead).to.deep.equal([]);
      watcher.track([{ replica: 'r2', lease: '43', address }]);
      await waitUntil(() => watcher.verified().includes('r2'), { timeoutMs: 2000, what: 'the connection to r2 at its new address' });
      watcher.track([]); // r2 left the registry: no verdict when it goes
      await peer.close();
      await sleep(300);
      expect(dead).to.deep.equal([]);
    });
  });
});
