// The lost-endpoint search's planner: when an endpoint whose port went is asked for, how the rounds
// space out, how many one round holds, and what a new mastership does to the schedule.

import { expect } from 'chai';
import { LostEndpointSearch, type LostEndpoint } from '../../../controller/mobility/index.js';

const A: LostEndpoint = { id: 1, eid: '10.0.1.10', mac: '02:00:00:00:01:0a' };
const B: LostEndpoint = { id: 2, eid: '10.0.1.11', mac: '02:00:00:00:01:0b' };
const options = { firstAfterMs: 2000, maxIntervalMs: 16_000, maxPerRound: 64 };

/** The instants (ms after 0) at which `endpoint` is asked for while it stays lost until `untilMs`, ticking every second. */
function rounds(search: LostEndpointSearch, lost: LostEndpoint[], untilMs: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let now = 0; now <= untilMs; now += 1000) {
    for (const e of search.due(lost, now)) out.set(e.id, [...(out.get(e.id) ?? []), now]);
  }
  return out;
}

describe('mobility: lost-endpoint search (planner)', () => {
  it('asks first after firstAfterMs, then doubles the spacing up to maxIntervalMs', () => {
    const search = new LostEndpointSearch(options);
    expect(rounds(search, [A], 70_000).get(A.id)).to.deep.equal([2000, 6000, 14_000, 30_000, 46_000, 62_000]);
  });

  it('forgets an endpoint that is no longer lost (it moved, its port came back, its binding went); lost again, it waits firstAfterMs again', () => {
    const search = new LostEndpointSearch(options);
    expect(search.due([A], 0)).to.deep.equal([]);
    expect(search.due([A], 2000)).to.deep.equal([A]);
    expect(search.size).to.equal(1);
    expect(search.due([], 3000)).to.deep.equal([]);
    expect(search.size).to.equal(0);
    expect(search.wanted(A.mac, A.eid)).to.equal(false);
    expect(search.due([A], 4000)).to.deep.equal([]);
    expect(search.due([A], 5000)).to.deep.equal([]);
    expect(search.due([A], 6000)).to.deep.equal([A]);
  });

  it('a binding id that now names another endpoint (another MAC) starts afresh', () => {
    const search = new LostEndpointSearch(options);
    search.due([A], 0);
    expect(search.due([{ ...A, mac: '02:00:00:00:01:99' }], 2000)).to.deep.equal([]);
    expect(search.wanted(A.mac, A.eid)).to.equal(false);
    expect(search.wanted('02:00:00:00:01:99', A.eid)).to.equal(true);
  });

  it('wants an answer only with the lost endpoint\'s MAC and EID together', () => {
    const search = new LostEndpointSearch(options);
    search.due([A, B], 0);
    expect(search.wanted(A.mac, A.eid)).to.equal(true);
    expect(search.wanted(A.mac, B.eid), 'its MAC with another EID').to.equal(false);
    expect(search.wanted('02:00:00:00:01:99', A.eid), 'its EID from another MAC').to.equal(false);
  });

  it('holds at most maxPerRound endpoints in a round, the longest waiting first; the rest come in the next rounds', () => {
    const search = new LostEndpointSearch({ ...options, maxPerRound: 2 });
    const many = Array.from({ length: 5 }, (_, i): LostEndpoint => ({ id: 10 + i, eid: `10.0.1.${50 + i}`, mac: `02:00:00:00:01:${(0x50 + i).toString(16)}` }));
    search.due(many.slice(0, 3), 0);
    search.due(many, 500);
    expect(search.due(many, 2000).map((e) => e.id)).to.deep.equal([10, 11]);
    expect(search.due(many, 2500).map((e) => e.id)).to.deep.equal([12, 13]);
    expect(search.due(many, 3000).map((e) => e.id)).to.deep.equal([14]);
  });

  it('hurry (a new mastership): endpoints lost long enough are asked for at the next round and start their spacing again; the newly lost still wait', () => {
    const search = new LostEndpointSearch(options);
    const seen = rounds(search, [A], 40_000);
    expect(seen.get(A.id)!.at(-1)).to.equal(30_000); // next at 46 s
    search.due([A, B], 40_500); // B lost just now
    search.hurry(41_000);
    expect(search.due([A, B], 41_000)).to.deep.equal([A]);
    expect(search.due([A, B], 42_000)).to.deep.equal([]);
    expect(search.due([A, B], 42_500)).to.deep.equal([B]);
    expect(search.due([A, B], 45_000)).to.deep.equal([A]); // 41 s + 4 s: the spacing began again
  });

  it('firstAfterMs 0: never asks, but still knows what is lost', () => {
    const search = new LostEndpointSearch({ ...options, firstAfterMs: 0 });
    expect(rounds(search, [A], 10_000).size).to.equal(0);
    expect(search.size).to.equal(1);
  });
});
