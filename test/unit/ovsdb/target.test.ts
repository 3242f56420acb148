// OVSDB targets as ovs-vsctl spells them, the hypervisor.ovsdb setting ('auto', 'off', a list),
// and its place in the controller's configuration (bad values stop start-up naming the key).

import { expect } from 'chai';
import { loadConfig } from '../../../controller/config.js';
import { DEFAULT_OVSDB_SOCKET, formatOvsdbTarget, parseOvsdbTarget, resolveOvsdbTargets } from '../../../controller/ovsdb/index.js';
import { WarningThrottle } from '../../../controller/ovsdb/warning-throttle.js';

describe('OVSDB targets', () => {
  it('parses unix:, tcp: (IPv4, name, [IPv6]) and bare paths', () => {
    expect(parseOvsdbTarget('unix:/run/openvswitch/db.sock')).to.deep.equal({ kind: 'unix', path: '/run/openvswitch/db.sock' });
    expect(parseOvsdbTarget('/var/run/openvswitch/db.sock')).to.deep.equal({ kind: 'unix', path: '/var/run/openvswitch/db.sock' });
    expect(parseOvsdbTarget('tcp:192.0.2.7:6640')).to.deep.equal({ kind: 'tcp', host: '192.0.2.7', port: 6640 });
    expect(parseOvsdbTarget('tcp:hv1.example:6640')).to.deep.equal({ kind: 'tcp', host: 'hv1.example', port: 6640 });
    expect(parseOvsdbTarget('tcp:[::1]:6640')).to.deep.equal({ kind: 'tcp', host: '::1', port: 6640 });
    expect(formatOvsdbTarget(parseOvsdbTarget('tcp:[::1]:6640'))).to.equal('tcp:[::1]:6640');
  });

  it('refuses what the controller cannot connect to, saying why', () => {
    const cases: Array<[string, RegExp]> = [
      ['ssl:1.2.3.4:6640', /not supported/], ['ptcp:6640', /passive/], ['punix:/x', /passive/],
      ['tcp:1.2.3.4', /HOST:PORT/], ['tcp:1.2.3.4:0', /HOST:PORT/], ['tcp:1.2.3.4:70000', /HOST:PORT/], ['tcp:::1:6640', /HOST:PORT/],
      ['unix:', /socket path/], ['db.sock', /not an OVSDB target/], ['http://x', /not an OVSDB target/],
    ];
    for (const [text, why] of cases) expect(() => parseOvsdbTarget(text), text).to.throw(why);
  });

  it('resolves auto to the local socket only when it exists; off and null to nothing; lists in order', () => {
    expect(resolveOvsdbTargets('auto', (p) => p === DEFAULT_OVSDB_SOCKET)).to.deep.equal([{ kind: 'unix', path: DEFAULT_OVSDB_SOCKET }]);
    expect(resolveOvsdbTargets('auto', () => false)).to.deep.equal([]);
    expect(resolveOvsdbTargets('off', () => true)).to.deep.equal([]);
    expect(resolveOvsdbTargets(null, () => true)).to.deep.equal([]);
    expect(resolveOvsdbTargets('tcp:10.9.0.1:6640, tcp:10.9.0.2:6640', () => false).map(formatOvsdbTarget)).to.deep.equal(['tcp:10.9.0.1:6640', 'tcp:10.9.0.2:6640']);
    expect(() => resolveOvsdbTargets('unix:/a,/a', () => false)).to.throw(/twice/);
  });

  it('is the hypervisor.ovsdb setting: auto by default, from env or flag, checked at start-up', () => {
    expect(loadConfig([], {}).hypervisor.ovsdb).to.equal('auto');
    expect(loadConfig([], { SEAMLESS_OVSDB: 'off' }).hypervisor.ovsdb).to.equal('off');
    expect(loadConfig(['--ovsdb', 'tcp:127.0.0.1:6640'], {}).hypervisor.ovsdb).to.equal('tcp:127.0.0.1:6640');
    expect(() => loadConfig(['--ovsdb=ptcp:6640'], {})).to.throw(/hypervisor\.ovsdb.*passive/);
    expect(() => loadConfig([], { SEAMLESS_OVSDB: 'tcp:nowhere' })).to.throw(/hypervisor\.ovsdb/);
  });
});

describe('WarningThrottle', () => {
  it('writes at most `limit` lines per window and counts the rest into the next line', () => {
    const t = new WarningThrottle(2, 1000);
    expect([t.admit(0), t.admit(1), t.admit(2), t.admit(3)]).to.deep.equal([
      { write: true, suppressed: 0 }, { write: true, suppressed: 0 }, { write: false }, { write: false },
    ]);
    expect(t.admit(1000)).to.deep.equal({ write: true, suppressed: 2 });
  });
});
