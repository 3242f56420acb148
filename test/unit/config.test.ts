import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, helpText, loadConfig, readCommandLine, REFERENCE_LAB_SUBNETS } from '../../controller/config.js';
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
    expect(config.http).to.deep.equal({
      host: '127.0.0.1', port: 8080, token: null, metricsPublic: true, allowedHosts: [], sseMaxClients: 100, sseMaxBufferedBytes: 1048576,
      requestTimeoutMs: 30000, headersTimeoutMs: 10000, keepAliveTimeoutMs: 5000,
    });
    expect(config.log).to.deep.equal({ level: 'info', format: 'json' });
    expect(config.state.dir).to.equal('./.seamless');
    expect(config.subnets).to.deep.equal(REFERENCE_LAB_SUBNETS);
    expect(config.mobility).to.deep.equal({ rewrite: true, graceMs: 500, verification: 'arp-probe', probeWindowMs: 40, probeCount: 2, activityWindowMs: 1100, reuseGraceMs: 60000, learnIdleTimeoutSec: 300, correspondentRules: 'eager', cacheIdleTimeoutSec: 300, maxEndpointsPerPort: 1, claimsPerSecond: 20, claimBurst: 40, maxMacsPerPort: 1024, maxMacsPerSwitch: 16384, dampMoves: 6, dampWindowMs: 10000, dampSuspendMs: 30000,
      bufferMaxFrames: 4096, bufferMaxBytes: 8388608, bufferMaxVms: 64, bufferMaxAgeMs: 5000, bufferCopyWindowMs: 1000, bufferReplayBeforeStopMs: 100, bufferQueueAtDestination: false, bufferReplayFramesPerSec: 0, bufferReplayPortBacklog: 500,
      lostSearchAfterMs: 2000, lostSearchMaxIntervalMs: 60000 });
  });

  it('takes the loss-free buffer bounds from the environment and flags, and refuses nonsense', () => {
    const config = loadConfig(['--buffer-max-frames', '300'], { SEAMLESS_BUFFER_MAX_AGE_MS: '2000' }, { stdoutIsTTY: false });
    expect(config.mobility).to.deep.include({ bufferMaxFrames: 300, bufferMaxAgeMs: 2000 });
    expect(() => loadConfig(['--buffer-max-bytes', '10'], {}, { stdoutIsTTY: false })).to.throw(/bufferMaxBytes/);
    expect(() => loadConfig([], { SEAMLESS_BUFFER_COPY_WINDOW_MS: '-5' }, { stdoutIsTTY: false })).to.throw(/bufferCopyWindowMs/);
  });

  it('takes the replay rate of a stopped VM\'s frames, 0 for none, and refuses nonsense', () => {
    expect(loadConfig(['--buffer-replay-frames-per-sec', '0'], {}, { stdoutIsTTY: false }).mobility.bufferReplayFramesPerSec).to.equal(0);
    expect(loadConfig([], { SEAMLESS_BUFFER_REPLAY_FRAMES_PER_SEC: '100000' }, { stdoutIsTTY: false }).mobility.bufferReplayFramesPerSec).to.equal(100_000);
    expect(failure(['--buffer-replay-frames-per-sec=-1']).message).to.match(/bufferReplayFramesPerSec: must be a rate per second, or 0 for no bound/);
    expect(failure(['--buffer-replay-frames-per-sec', '1.5']).message).to.match(/bufferReplayFramesPerSec/);
    expect(loadConfig(['--buffer-replay-port-backlog', '0'], {}, { stdoutIsTTY: false }).mobility.bufferReplayPortBacklog).to.equal(0);
    expect(loadConfig([], { SEAMLESS_BUFFER_REPLAY_PORT_BACKLOG: '200' }, { stdoutIsTTY: false }).mobility.bufferReplayPortBacklog).to.equal(200);
    expect(failure(['--buffer-replay-port-backlog=-5']).message).to.match(/bufferReplayPortBacklog: must be a number of frames, or 0 for off/);
  });

  it('takes the lost-endpoint search\'s timing, 0 turning it off, and refuses nonsense', () => {
    expect(loadConfig(['--lost-search-after-ms', '0'], { SEAMLESS_LOST_SEARCH_MAX_INTERVAL_MS: '5000' }, { stdoutIsTTY: false }).mobility).to.deep.include({ lostSearchAfterMs: 0, lostSearchMaxIntervalMs: 5000 });
    expect(failure(['--lost-search-after-ms=-1']).message).to.match(/lostSearchAfterMs: must be milliseconds, or 0 for off/);
    expect(failure(['--lost-search-max-interval-ms', '0']).message).to.match(/lostSearchMaxIntervalMs: .*positive integer/);
  });

  it('takes the scheduling priority (-10 by default, Open vSwitch\'s) as a nice value or keep, and refuses others', () => {
    const nice = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(argv, env, { stdoutIsTTY: false }).process.nice;
    expect(nice([])).to.equal(-10);
    expect(nice(['--nice', '5'])).to.equal(5);
    expect(nice(['--nice=-5'])).to.equal(-5);
    expect(failure(['--nice', '-5']).message).to.match(/--nice=VALUE/);
    expect(nice(['--nice=-20'])).to.equal(-20);
    expect(nice([], { SEAMLESS_NICE: 'keep' })).to.equal('keep');
    expect(nice([], { SEAMLESS_NICE: '0' })).to.equal(0);
    expect(failure(['--nice', '20']).message).to.match(/process\.nice.*-20 to 19/);
    expect(failure([], { SEAMLESS_NICE: 'high' }).message).to.match(/process\.nice/);
    expect(failure(['--nice', '1.5']).message).to.match(/process\.nice/);
  });

  it('turns rewriting off for the baseline from the environment or a flag', () => {
    const rewrite = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(argv, env, { stdoutIsTTY: false }).mobility.rewrite;
    expect(rewrite([], { SEAMLESS_REWRITE: 'false' })).to.equal(false);
    expect(rewrite(['--rewrite', 'false'])).to.equal(false);
    expect(rewrite(['--rewrite=false'])).to.equal(false);
    expect(rewrite(['--no-rewrite'])).to.equal(false);
    expect(rewrite(['--rewrite'], { SEAMLESS_REWRITE: 'false' })).to.equal(true);
    expect(rewrite(['--rewrite', '--state-dir', '/tmp/x'])).to.equal(true);
    expect(rewrite(['--rewrite=true'], { SEAMLESS_REWRITE: 'false' })).to.equal(true);
  });

  it('has a real boolean format: anything but true or false is an error', () => {
    expect(failure(['--rewrite=banana']).message).to.match(/mobility\.rewrite: must be true or false/);
    expect(failure([], { SEAMLESS_REWRITE: 'banana' }).message).to.contain('mobility.rewrite');
    expect(failure([], { SEAMLESS_REWRITE: '' }).message).to.contain('mobility.rewrite');
    expect(failure(['--config', file('bool.json', { mobility: { rewrite: 'yes' } })]).message).to.contain('mobility.rewrite');
    expect(failure(['--metrics-public=0']).message).to.contain('http.metricsPublic');
  });

  it('bounds values by what the wire and the timers can carry', () => {
    expect(loadConfig(['--learn-idle-timeout-sec', '65535'], {}, { stdoutIsTTY: false }).mobility.learnIdleTimeoutSec).to.equal(65535);
    expect(failure(['--learn-idle-timeout-sec', '65536']).message).to.match(/mobility\.learnIdleTimeoutSec: .*1-65535/);
    expect(failure([], { SEAMLESS_CACHE_IDLE_TIMEOUT_SEC: '70000' }).message).to.contain('mobility.cacheIdleTimeoutSec');
    expect(failure(['--learn-idle-timeout-sec', '0']).message).to.contain('mobility.learnIdleTimeoutSec');
    expect(failure(['--grace-ms', String(2 ** 31)]).message).to.contain('mobility.graceMs'); // setTimeout would fire at once
    expect(failure(['--sse-max-clients', '0']).message).to.contain('http.sseMaxClients');
  });

  it('refuses an empty token: it would match a missing header', () => {
    expect(failure([], { SEAMLESS_HTTP_TOKEN: '' }).message).to.match(/http\.token: must not be empty/);
    expect(failure(['--http-token=']).message).to.contain('http.token');
    expect(failure(['--config', file('empty-token.json', { http: { token: '' } })]).message).to.contain('http.token');
    expect(failure(['--http-token', 'has space']).message).to.contain('http.token');
    expect(loadConfig([], {}, { stdoutIsTTY: false }).http.token).to.equal(null);
  });

  it('reads the allowed host names as a comma-separated list and checks them', () => {
    expect(loadConfig([], { SEAMLESS_HTTP_ALLOWED_HOSTS: 'ctl.lab.example, *.ops.example' }, { stdoutIsTTY: false }).http.allowedHosts)
      .to.deep.equal(['ctl.lab.example', '*.ops.example']);
    expect(failure(['--http-allowed-hosts', 'a b']).message).to.contain('http.allowedHosts');
  });

  it('answers --help, -h and --version instead of configuring', () => {
    for (const argv of [['--help'], ['-h'], ['--state-dir', '/x', '--help']]) expect(readCommandLine(argv, {}).kind, argv.join(' ')).to.equal('help');
    const version = readCommandLine(['--version'], {});
    expect(version.kind === 'version' && version.text).to.match(/^seamless \d+\.\d+\.\d+\n$/);
    expect(() => loadConfig(['--help'], {})).to.throw(ConfigError);
  });

  it('generates --help from the schema: every flag, its key, environment variable and default', () => {
    const text = helpText();
    for (const [flag, key, env, dflt] of [
      ['--openflow-port VALUE', 'openflow.port', 'SEAMLESS_OPENFLOW_PORT', 'default 6653'],
      ['--http-token VALUE', 'http.token', 'SEAMLESS_HTTP_TOKEN', 'default unset'],
      ['--rewrite, --no-rewrite', 'mobility.rewrite', 'SEAMLESS_REWRITE', 'default true'],
      ['--learn-idle-timeout-sec VALUE', 'mobility.learnIdleTimeoutSec', 'SEAMLESS_LEARN_IDLE_TIMEOUT_SEC', 'default 300'],
      ['(config file only)', 'subnets', 'the reference lab', 'default the reference lab'],
    ]) {
      expect(text).to.contain(flag).and.to.contain(key).and.to.contain(env!).and.to.contain(dflt!);
    }
    const flags = text.match(/--[a-z][a-z-]+/g) ?? [];
    expect(new Set(flags).size).to.be.greaterThan(25);
  });

  it('rejects stray words and single-dash options', () => {
    expect(failure(['start']).message).to.match(/unexpected argument "start"/);
    expect(failure(['--http-port', '80', '81']).message).to.contain('"81"');
    expect(failure(['-x']).message).to.contain('unknown option -x');
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
    expect(failure(['--http-port', '0x10']).message).to.contain('http.port');
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

  it('rejects unknown flags and flags without their value', () => {
    expect(failure(['--openflow-prot', '7000']).message).to.contain('unknown option --openflow-prot');
    expect(failure(['--http-port']).message).to.match(/--http-port \(http\.port\) needs a value/);
    expect(failure(['--echo-timeout-ms', '-5']).message).to.contain('--echo-timeout-ms=VALUE');
    expect(failure(['--echo-timeout-ms=-5']).message).to.contain('openflow.echoTimeoutMs');
  });

  it('reports unreadable and malformed config files', () => {
    expect(failure(['--config', join(dir, 'missing.json')]).message).to.contain('cannot read config file');
    expect(failure(['--config', file('broken.json', '{ "http": ')]).message).to.contain('not valid JSON');
    expect(failure(['--config']).message).to.contain('--config needs a file path');
  });

  describe('the seamless command', function () {
    this.timeout(120_000);
    /** Runs controller/main.ts with these arguments; resolves with its exit status and output. */
    function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'controller/main.ts', ...argv], {
          env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
        child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        const timer = setTimeout(() => child.kill('SIGKILL'), 50_000); // a controller that started by mistake
        child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
      });
    }

    it('exits 0 for --help and --version, 2 with a message for what it cannot use', async () => {
      // Two at a time: each run loads the whole controller (a few seconds on a busy machine).
      const [help, version] = await Promise.all([run(['--help']), run(['--version'])]);
      const [stray, emptyToken] = await Promise.all([run(['start']), run([], { SEAMLESS_HTTP_TOKEN: '' })]);
      expect(help.code, help.stderr).to.equal(0);
      expect(help.stdout).to.contain('Usage: seamless [options]').and.to.contain('SEAMLESS_HTTP_TOKEN');
      expect(version.code).to.equal(0);
      expect(version.stdout).to.match(/^seamless \d+\.\d+\.\d+\n$/);
      for (const [result, text] of [[stray, 'unexpected argument "start"'], [emptyToken, 'http.token: must not be empty']] as const) {
        expect(result.code, result.stderr).to.equal(2);
        expect(result.stderr).to.match(/^seamless: /).and.to.contain(text).and.to.contain("Try 'seamless --help'");
        expect(result.stdout).to.equal('');
      }
    });
  });
});
