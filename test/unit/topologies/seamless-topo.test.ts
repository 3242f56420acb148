// The reference topology's shape, built with Mininet's Topo (no network is started).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { HOST_PYTHON } from '../../../topologies/mininet-driver.js';

const run = promisify(execFile);
const topologies = new URL('../../../topologies/', import.meta.url).pathname;

async function topo(args: string): Promise<{ hosts: string[]; links: string[][] }> {
  const code = `import json, seamless_topo as t
topo = t.build_topology(${args})
print(json.dumps({'hosts': sorted(topo.hosts()), 'links': sorted([sorted([a, b]) for a, b in topo.links()])}))`;
  const { stdout } = await run(HOST_PYTHON, ['-c', code], { cwd: topologies });
  return JSON.parse(stdout) as { hosts: string[]; links: string[][] };
}

describe('topologies/seamless_topo.py', () => {
  it('has the emulated VM host on s1 by default', async () => {
    const t = await topo('');
    expect(t.hosts).to.deep.equal(['cnA', 'cnB', 'cnC', 'ext', 'r', 'vm']);
    expect(t.links).to.deep.include(['s1', 'vm']);
  });

  it("leaves s1 port 10 free for a QEMU guest with vm='none'", async () => {
    const t = await topo("vm='none'");
    expect(t.hosts).to.deep.equal(['cnA', 'cnB', 'cnC', 'ext', 'r']);
    expect(t.links.flat()).to.not.include('vm');
  });

  it('refuses an unknown VM kind', async () => {
    const failure = await topo("vm='qemu'").catch((e: unknown) => e);
    expect(String(failure)).to.match(/vm must be one of mininet, none, not 'qemu'/);
  });
});
