// A second controller started beside a running one: it fails on its ports before it touches
// the state dir, and with other ports it fails on the state dir's lock (issue 9, row 9).

import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../controller/config.js';
import { silentLogger } from '../../controller/log.js';
import { startController, type Controller } from '../../controller/main.js';
import { JOURNAL_FILE, parseSubnets } from '../../controller/mobility/index.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function config(stateDir: string, openflowPort: number, httpPort: number) {
  return loadConfig(
    ['--openflow-host', '127.0.0.1', '--openflow-port', String(openflowPort), '--http-port', String(httpPort), '--state-dir', stateDir],
    {}, { stdoutIsTTY: false, validateSubnets: (raw) => void parseSubnets(raw) },
  );
}

describe('controller start-up order', () => {
  let base: string;
  const running: Controller[] = [];
  beforeEach(async () => { base = await mkdtemp(join(tmpdir(), 'seamless-start-')); });
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    await rm(base, { recursive: true, force: true });
  });

  it('binds the ports before opening the store, and locks the store', async () => {
    const [of, http] = [await freePort(), await freePort()];
    const live = join(base, 'live');
    running.push(await startController(config(live, of, http), silentLogger));
    const journal = await readFile(join(live, JOURNAL_FILE), 'utf8');

    // Same ports: refused on the port; its (new) state dir is never even created.
    const other = join(base, 'other');
    const onPort = await startController(config(other, of, http), silentLogger).then(() => undefined, (e: unknown) => e as Error);
    expect(onPort?.name).to.equal('PortInUseError');
    expect(onPort?.message).to.match(new RegExp(`OpenFlow port 127.0.0.1:${of} is already in use`));
    expect(existsSync(other)).to.equal(false);

    // Other ports, same state dir: refused on the lock, the live journal untouched.
    const onLock = await startController(config(live, 0, 0), silentLogger).then((c) => { running.push(c); }, (e: unknown) => e as Error);
    expect(onLock?.name).to.equal('StateDirLockedError');
    expect(onLock?.message).to.include(`pid ${process.pid}`);
    expect(await readFile(join(live, JOURNAL_FILE), 'utf8')).to.equal(journal);

    // Once the first one stopped, both its ports and its state dir are free again.
    await running.pop()!.stop();
    running.push(await startController(config(live, of, http), silentLogger));
    expect(running[0]!.listener.address().port).to.equal(of);
    expect(running[0]!.http.port).to.equal(http);
  });
});
