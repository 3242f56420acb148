import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig, REFERENCE_LAB_SUBNETS } from '../../controller/config.js';
import { parseSubnets } from '../../controller/mobility/index.js';

describe('config', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'seamless-config-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, content: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  }

  function failure(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
    try {
      loadConfig(argv, env, { stdoutIsTTY: false });
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected loadConfig to throw');
  }

  it('has documented defaults', () => {
    const config = loadConfig([], {}, { stdoutIsTTY: false });
    expect(config.openflow).to.deep.include({ // the bounds of issue 9: test/unit/switch/openflow-config.test.ts
      host: '0.0.0.0', port: 6653, echoIntervalMs: 5000, echoTimeoutMs: 15000, requestTimeoutMs: 10000,
    });
    expect(config.http).to.deep.equal({ host: '127.0.0.1', port: 8080, token: null });
    expect(config.log).to.deep.equal({ level: 'info', format: 'json' });
    expect(config.state.dir).to.equal('./.seamless');
    expect(config.subnets).to.deep.equal(REFERENCE_LAB_SUBNETS);
    expect(config.mobility).to.deep.equal({ rewrite: true, graceMs: 500, verification: 'arp-probe', probeWindowMs: 40, probeCount: 2, activityWindowMs: 1100, reuseGraceMs: 60000, learnIdleTimeoutSec: 300, correspondentRules: 'eager', cacheIdleTimeoutSec: 300, maxEndpointsPerPort: 1, claimsPerSecond: 20, claimBurst: 40, maxMacsPerPort: 1024, maxMacsPerSwitch: 16384, dampMoves: 6, dampWindowMs: 10000, dampSuspendMs: 30000 });
  });

  it('turns rewriting off for the baseline from the environment or a flag', () => {
    expect(loadConfig([], { SEAMLESS_REWRITE: 'false' }, { stdoutIsTTY: false }).mobility.rewrite).to.equal(false);
    expect(loadConfig(['--rewrite', 'false'], {}, { stdoutIsTTY: false }).mobility.rewrite).to.equal(false);
  });

  it('embeds the reference lab as the default subnets, valid for the mobility module', () => {
    const subnets = parseSubnets(loadConfig([], {}, { stdoutIsTTY: false }).subnets);
    expect(subnets.map((s) => s.name)).to.deep.equal(['A', 'B', 'C']);
    expect(subnets.map((s) => s.edges[0]?.dpid)).to.deep.equal([1n, 2n, 3n]);
  });

  it('logs pretty by default on a terminal', () => {
    expect(loadConfig([], {}, { stdoutIsTTY: true }).log.format).to.equal('pretty');
  });

  it('applies defaults < file < env < flags', () => {
    const path = file('layers.json', { openflow: { port: 7001, host: '127.0.0.2' }, http: { port: 9001 }, log: { level: 'debug' } });
    const env = { SEAMLESS_CONFIG: path, SEAMLESS_OPENFLOW_PORT: '7002', SEAMLESS_HTTP_PORT: '9002' };
    const config = loadConfig(['--openflow-port', '7003'], env, { stdoutIsTTY: false });
    expect(config.openflow.port).to.equal(7003); // flag beats env and file
    expect(config.http.port).to.equal(9002); // env beats file
    expect(config.openflow.host).to.equal('127.0.0.2'); // file beats default
    expect(config.log.level).to.equal('debug');
    expect(config.openflow.echoIntervalMs).to.equal(5000); // untouched default
  });

  it('takes --config over SEAMLESS_CONFIG and --flag=value syntax', () => {
    const a = file('a.json', { http: { port: 1111 } });
    const b = file('b.json', { http: { port: 2222 } });
    expect(loadConfig(['--config', b], { SEAMLESS_CONFIG: a }, { stdoutIsTTY: false }).http.port).to.equal(2222);
    expect(loadConfig([`--config=${a}`, '--state-dir=/tmp/x'], {}, { stdoutIsTTY: false }).state.dir).to.equal('/tmp/x');
  });

  it('carries subnets through from a config file', () => {
    const subnets = [{ name: 'A', prefix: '10.0.1.0/24' }];
    expect(loadConfig(['--config', file('subnets.json', { subnets })], {}, { stdoutIsTTY: false }).subnets).to.deep.equal(subnets);
  });

  it('accepts port 0 for an ephemeral listener and a token from the environment', () => {
    const config = loadConfig(['--openflow-port', '0'], { SEAMLESS_HTTP_TOKEN: 's3cret' }, { stdoutIsTTY: false });
    expect(config.openflow.port).to.equal(0);
    expect(config.http.token).to.equal('s3cret');
  });

  it('rejects a bad port from the environment, naming the key', () => {
    expect(failure([], { SEAMLESS_OPENFLOW_PORT: '70000' }).message).to.match(/openflow\.port: must be a TCP port/);
    expect(failure([], { SEAMLESS_OPENFLOW_PORT: '7000x' }).message).to.contain('openflow.port');
  });

  it('rejects bad values from flags and files', () => {
    expect(failure(['--log-level', 'loud']).message).to.contain('log.level');
    expect(failure(['--echo-timeout-ms', '-5']).message).to.contain('openflow.echoTimeoutMs');
    expect(failure(['--config', file('bad.json', { http: { port: 'eighty' } })]).message).to.contain('http.port');
    expect(failure(['--config', file('bad-subnets.json', { subnets: { A: 1 } })]).message).to.contain('subnets');
  });

  it('rejects subnets that are not objects and runs the subnets validator', () => {
    expect(failure(['--config', file('scalar-subnets.json', { subnets: [1] })]).message).to.contain('subnets');
    const path = file('two-subnets.json', { subnets: [{ name: 'A' }, { name: 'B' }] });
    const validateSubnets = (subnets: readonly unknown[]) => {
      if (subnets.length > 1) throw new Error('[1].name: B is not allowed');
    };
    expect(() => loadConfig(['--config', path], {}, { validateSubnets })).to.throw(ConfigError, 'subnets: [1].name');
  });

  it('rejects unknown keys in a config file', () => {
    const error = failure(['--config', file('unknown.json', { openflow: { prot: 1 } })]);
    expect(error.message).to.contain('openflow.prot');
  });

  it('rejects unknown flags', () => {
    expect(failure(['--openflow-prot', '7000']).message).to.contain('--openflow-prot');
  });

  it('reports unreadable and malformed config files', () => {
    expect(failure(['--config', join(dir, 'missing.json')]).message).to.contain('cannot read config file');
    expect(failure(['--config', file('broken.json', '{ "http": ')]).message).to.contain('not valid JSON');
    expect(failure(['--config']).message).to.contain('--config needs a file path');
  });
});
