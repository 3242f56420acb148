// The openflow.* settings of issue 9 (bounds, dpid policy, pins, TLS): defaults, strict parsing.

import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../../controller/config.js';
import { OPENFLOW_LIMIT_DEFAULTS } from '../../../controller/switch/index.js';

const load = (argv: string[] = [], env: NodeJS.ProcessEnv = {}) => loadConfig(argv, env, { stdoutIsTTY: false });

describe('config: openflow bounds, admission and TLS', () => {
  it('defaults to the measured bounds, keep-established, no pinning and plain TCP', () => {
    const of = load().openflow;
    expect(of).to.deep.include({
      handshakeTimeoutMs: OPENFLOW_LIMIT_DEFAULTS.handshakeTimeoutMs,
      maxConnections: 4096, maxConnectionsPerAddress: 1024, maxQueuedBytes: 8 << 20, handshakeMaxQueuedBytes: 64 << 10,
      duplicateDpid: 'keep-established', pinning: 'none', pins: [],
    });
    expect(of.multipart).to.deep.equal({ maxParts: 4096, maxBytes: 32 << 20, timeoutMs: 60_000, totalMaxBytes: 64 << 20 });
    expect(of.tls).to.deep.equal({ key: null, cert: null, ca: null });
  });

  it('reads every bound from flags and environment, strictly', () => {
    const of = load(['--openflow-max-connections', '10', '--openflow-multipart-max-bytes=4096', '--openflow-duplicate-dpid', 'replace'],
      { SEAMLESS_OPENFLOW_HANDSHAKE_TIMEOUT_MS: '2500', SEAMLESS_OPENFLOW_TLS_KEY: '/k.pem', SEAMLESS_OPENFLOW_MULTIPART_TOTAL_MAX_BYTES: '1048576' }).openflow;
    expect(of.multipart.totalMaxBytes).to.equal(1 << 20);
    expect(of).to.deep.include({ maxConnections: 10, handshakeTimeoutMs: 2500, duplicateDpid: 'replace' });
    expect(of.multipart.maxBytes).to.equal(4096);
    expect(of.tls.key).to.equal('/k.pem');
    expect(() => load(['--openflow-max-connections', '10x'])).to.throw(ConfigError, /maxConnections: must be a positive integer/);
    expect(() => load([], { SEAMLESS_OPENFLOW_MAX_QUEUED_BYTES: '0' })).to.throw(ConfigError, /maxQueuedBytes/);
    expect(() => load(['--openflow-pinning', 'dns'])).to.throw(ConfigError, /pinning/);
    expect(() => load(['--openflow-multipart-total-max-bytes', '1048576'])).to.throw(ConfigError, /totalMaxBytes \(1048576\) must be at least openflow.multipart.maxBytes \(33554432\)/);
    expect(load(['--openflow-multipart-total-max-bytes', '1048576', '--openflow-multipart-max-bytes', '1048576']).openflow.multipart).to.include({ totalMaxBytes: 1 << 20, maxBytes: 1 << 20 });
  });

  it('validates static pins', async () => {
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'seamless-pins-'));
    const file = (pins: unknown) => {
      const path = join(dir, `c${Math.random()}.json`);
      writeFileSync(path, JSON.stringify({ openflow: { pins } }));
      return ['--config', path];
    };
    try {
      expect(load(file([{ dpid: '0000000000000001', address: '10.0.0.1' }])).openflow.pins).to.have.length(1);
      expect(() => load(file([{ dpid: '0000000000000001' }]))).to.throw(ConfigError, /pin 0: needs an address or a certificate/);
      expect(() => load(file([{ dpid: 'zz', address: '10.0.0.1' }]))).to.throw(ConfigError, /pin 0: dpid/);
      expect(() => load(file([{ dpid: '1', adress: '10.0.0.1' }]))).to.throw(ConfigError, /unknown key adress/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
