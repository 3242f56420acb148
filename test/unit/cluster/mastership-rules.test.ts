import { expect } from 'chai';
import fc from 'fast-check';
import {
  campaignDelayMs, fairShare, leaseDeadline, leaseTiming, rendezvousOrder, rendezvousRank, roleOf, ttlSeconds,
} from '../../../controller/cluster/mastership-rules.js';

const dpids = Array.from({ length: 16 }, (_, i) => BigInt(i + 1));

describe('cluster/mastership-rules', () => {
  describe('rendezvous order', () => {
    it('is the same whatever order the replicas are listed in, and differs between switches', () => {
      fc.assert(fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (replicas, dpid) => {
        expect(rendezvousOrder([...replicas].reverse(), dpid)).to.deep.equal(rendezvousOrder(replicas, dpid));
      }));
      const firsts = new Set(dpids.map((d) => rendezvousOrder(['r1', 'r2', 'r3'], d)[0]));
      expect(firsts.size).to.equal(3);
    });

    it('spreads 16 switches over 3 replicas, and a leaving replica\'s switches over the others', () => {
      const first = (replicas: string[]) => dpids.map((d) => rendezvousOrder(replicas, d)[0]);
      const withAll = first(['r1', 'r2', 'r3']);
      for (const r of ['r1', 'r2', 'r3']) expect(withAll.filter((x) => x === r).length, r).to.be.within(2, 9);
      const without = first(['r1', 'r2']);
      // Switches that r3 did not lead keep their first replica (nothing moves needlessly).
      withAll.forEach((r, i) => { if (r !== 'r3') expect(without[i]).to.equal(r); });
      const orphans = withAll.map((r, i) => (r === 'r3' ? without[i] : undefined)).filter((r) => r !== undefined);
      expect(new Set(orphans).size, 'the orphans go to both survivors').to.equal(2);
    });

    it('ranks a replica that is not registered yet as if it were', () => {
      for (const d of dpids) expect(rendezvousRank('new', ['r1', 'r2'], d)).to.equal(rendezvousOrder(['r1', 'r2', 'new'], d).indexOf('new'));
      expect(rendezvousRank('r1', ['r1'], 5n)).to.equal(0);
    });
  });

  describe('campaign delay', () => {
    it('first in order at once, then one step per place; a replica with its share waits behind everyone', () => {
      expect(campaignDelayMs({ rank: 0, held: 0, share: 6, replicas: 3, stepMs: 100 })).to.equal(0);
      expect(campaignDelayMs({ rank: 2, held: 5, share: 6, replicas: 3, stepMs: 100 })).to.equal(200);
      expect(campaignDelayMs({ rank: 0, held: 6, share: 6, replicas: 3, stepMs: 100 })).to.equal(300);
      fc.assert(fc.property(fc.nat(5), fc.nat(5), fc.integer({ min: 1, max: 20 }), (rankFull, rankShort, share) => {
        // Any replica still short of its share goes before any replica that has it.
        const full = campaignDelayMs({ rank: rankFull, held: share, share, replicas: 6, stepMs: 10 });
        const short = campaignDelayMs({ rank: rankShort, held: share - 1, share, replicas: 6, stepMs: 10 });
        return short < full;
      }));
    });

    it('a fair share rounds up and survives zero replicas', () => {
      expect(fairShare(16, 3)).to.equal(6);
      expect(fairShare(16, 2)).to.equal(8);
      expect(fairShare(3, 0)).to.equal(3);
    });
  });

  describe('lease timing', () => {
    it('asks whole seconds, and stops claiming a margin before etcd could expire the lease', () => {
      const t = leaseTiming(1000);
      expect(ttlSeconds(1000)).to.equal(1);
      expect(ttlSeconds(1500)).to.equal(2);
      expect(t.marginMs).to.equal(250);
      expect(leaseDeadline(10_000, t)).to.equal(10_750);
      // Two keep-alives in a row may fail before the deadline passes.
      expect(t.keepAliveMs * 2).to.be.lessThan(t.ttlMs - t.marginMs);
    });

    it('the deadline counts from when the keep-alive was sent, never from its answer', () => {
      fc.assert(fc.property(fc.integer({ min: 1000, max: 60_000 }), fc.nat(100_000), fc.nat(5000), (ttl, sentAt, rtt) => {
        const t = leaseTiming(ttl);
        // etcd restarts the TTL when it receives the request (sentAt + rtt/2): its expiry is later than ours.
        const etcdExpiry = sentAt + rtt / 2 + ttl;
        return leaseDeadline(sentAt, t) + t.marginMs <= etcdExpiry;
      }));
    });

    it('refuses TTLs below a second and margins that eat the TTL', () => {
      expect(() => leaseTiming(500)).to.throw(RangeError);
      expect(() => leaseTiming(2000, 2000)).to.throw(RangeError);
      expect(() => leaseTiming(2000, 0)).to.throw(RangeError);
    });
  });

  describe('role', () => {
    const holder = { replica: 'r1', lease: '7', createRevision: 42n };

    it('master only while etcd names this replica with its current lease and the lease is surely alive', () => {
      expect(roleOf(holder, { replica: 'r1', lease: '7' }, true, 0n)).to.deep.equal({ role: 'master', generationId: 42n });
      expect(roleOf(holder, { replica: 'r1', lease: '7' }, false, 0n).role, 'lease past its local deadline').to.equal('slave');
      expect(roleOf(holder, { replica: 'r1', lease: '8' }, true, 0n).role, 'a key of an older lease').to.equal('slave');
      expect(roleOf(holder, { replica: 'r2', lease: '7' }, true, 0n).role, 'another replica').to.equal('slave');
      expect(roleOf(holder, { replica: 'r1', lease: undefined }, true, 0n).role, 'no lease').to.equal('slave');
    });

    it('a slave carries the master\'s generation id, or the last known one when the switch has no master', () => {
      expect(roleOf(holder, { replica: 'r2', lease: '9' }, true, 0n).generationId).to.equal(42n);
      expect(roleOf(undefined, { replica: 'r2', lease: '9' }, true, 42n)).to.deep.equal({ role: 'slave', generationId: 42n });
    });
  });
});
