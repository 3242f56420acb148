// The cluster's configuration keys (controller/config.ts: state.store, state.etcd.*, cluster.*).

import { expect } from 'chai';
import { hostname } from 'node:os';
import { ConfigError, loadConfig } from '../../../controller/config.js';
import { connectEtcd } from '../../../controller/cluster/etcd-client.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(argv, env, { stdoutIsTTY: false });

describe('cluster configuration', () => {
  it('defaults to the file store and a local etcd for when it is chosen', () => {
    const c = load([]);
    expect(c.state.store).to.equal('file');
    expect(c.state.etcd).to.deep.equal({ endpoints: ['http://127.0.0.1:2379'], prefix: '/seamless/', tls: { ca: null, cert: null, key: null } });
    expect(c.cluster).to.deep.equal({ leaseTtlMs: 3000, replicaId: `${hostname()}-${process.pid}`, livenessAddress: '127.0.0.1:0', campaignStepMs: 100 });
  });

  it('takes the store and comma-separated endpoints from the environment, as scripts set them', () => {
    const c = load([], { SEAMLESS_STORE: 'etcd', SEAMLESS_ETCD_ENDPOINTS: 'http://h1:2379, http://h2:2379,http://h3:2379', SEAMLESS_LEASE_TTL_MS: '1000', SEAMLESS_REPLICA_ID: 'c1', SEAMLESS_LIVENESS_ADDRESS: '10.0.0.5:6700' });
    expect(c.state.store).to.equal('etcd');
    expect(c.state.etcd.endpoints).to.deep.equal(['http://h1:2379', 'http://h2:2379', 'http://h3:2379']);
    expect(c.cluster).to.deep.equal({ leaseTtlMs: 1000, replicaId: 'c1', livenessAddress: '10.0.0.5:6700', campaignStepMs: 100 });
    expect(load(['--liveness-address', '']).cluster.livenessAddress, 'empty: off').to.equal('');
    expect(load(['--store', 'etcd', '--etcd-prefix', '/lab2/', '--etcd-ca', '/etc/ca.pem']).state.etcd).to.include({ prefix: '/lab2/' });
  });

  it('refuses what cannot work, naming the key', () => {
    const fails = (argv: string[], env: NodeJS.ProcessEnv, key: RegExp) => {
      expect(() => load(argv, env)).to.throw(ConfigError, key);
    };
    fails([], { SEAMLESS_STORE: 'redis' }, /state\.store/);
    fails([], { SEAMLESS_ETCD_ENDPOINTS: 'h1:2379' }, /state\.etcd\.endpoints/);
    fails([], { SEAMLESS_ETCD_ENDPOINTS: ' , ' }, /state\.etcd\.endpoints/);
    fails([], { SEAMLESS_LEASE_TTL_MS: '500' }, /cluster\.leaseTtlMs/);
    fails([], { SEAMLESS_LEASE_TTL_MS: '2s' }, /cluster\.leaseTtlMs/);
    fails(['--etcd-prefix', ''], {}, /state\.etcd\.prefix/);
    for (const bad of ['6700', 'h1:', 'h1:70000', 'tcp://h1:6700']) fails(['--liveness-address', bad], {}, /cluster\.livenessAddress/);
  });

  it('refuses a TLS setup the client cannot use', () => {
    expect(() => connectEtcd({ endpoints: ['http://h1:2379'], tls: { ca: '/x/ca.pem' } })).to.throw(/https/);
    expect(() => connectEtcd({ endpoints: ['https://h1:2379'], tls: { ca: '/x/ca.pem', cert: '/x/c.pem' } })).to.throw(/key/);
    expect(() => connectEtcd({ endpoints: ['https://h1:2379'] })).to.throw(/CA/);
    expect(() => connectEtcd({ endpoints: [] })).to.throw(/no endpoints/);
  });
});
