import { expect } from 'chai';
import { phaseOf, RULE_KINDS, TABLES, tableDecl } from '../../../controller/pipeline/index.js';

describe('pipeline/tables', () => {
  it('declares the four tables of the design, in order', () => {
    expect(TABLES.map((t) => [t.id, t.name])).to.deep.equal([[0, 'ingress'], [1, 'src_rewrite'], [2, 'dst_rewrite'], [3, 'l2_forward']]);
  });

  it('lets packets go forward only', () => {
    for (const t of TABLES) for (const n of t.next) expect(n, `${t.name} -> ${n}`).to.be.greaterThan(t.id);
    expect(tableDecl(3)?.next).to.deep.equal([]);
  });

  it('declares every rule kind in a declared table, and one phase per table/priority', () => {
    const phases = new Map<string, string>();
    for (const [name, k] of Object.entries(RULE_KINDS)) {
      expect(tableDecl(k.table), name).to.not.equal(undefined);
      const key = `${k.table}/${k.priority}`;
      if (phases.has(key)) expect(phases.get(key), `${name} shares ${key}`).to.equal(k.phase);
      phases.set(key, k.phase);
      expect(phaseOf(k.table, k.priority)).to.equal(k.phase);
    }
    expect(phaseOf(3, 100)).to.equal(undefined); // learned destinations are not compiled
  });

  it('orders priorities as the design needs', () => {
    const k = RULE_KINDS;
    expect(k.vmAnnounceToController.priority).to.be.greaterThan(k.vmArpResponder.priority);
    expect(k.vmArpResponder.priority).to.be.greaterThan(k.vmArpDrop.priority);
    expect(k.homeAnchor.priority).to.be.greaterThan(k.correspondentDst.priority);
    expect(k.deliverLocator.priority).to.be.greaterThan(k.homeAnchor.priority);
    expect(k.vmToGateway.priority).to.be.greaterThan(k.vmToManaged.priority);
    expect(k.vmToManaged.priority).to.be.greaterThan(k.vmToExternal.priority);
    expect(k.gatewayToRouter.priority).to.be.greaterThan(100); // above learned destinations
  });
});
