// The announce frames and schedule of topologies/announce.py (run with Debian's Python, no network):
// the e2e test decodes the same frames with tshark on the wire.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { HOST_PYTHON } from '../../../topologies/mininet-driver.js';

const run = promisify(execFile);
const topologies = new URL('../../../topologies/', import.meta.url).pathname;

async function python(expression: string): Promise<unknown> {
  const code = `import json, announce; print(json.dumps(${expression}))`;
  const { stdout } = await run(HOST_PYTHON, ['-c', code], { cwd: topologies });
  return JSON.parse(stdout);
}

describe('topologies/announce.py', () => {
  it("follows QEMU's announce timer: 0, 50, 200, 450, 800 ms with the defaults", async () => {
    expect(await python('announce.round_offsets(5, 50, 100, 550)')).to.deep.equal([0, 50, 200, 450, 800]);
    expect(await python('announce.round_offsets(8, 50, 100, 550)')).to.deep.equal([0, 50, 200, 450, 800, 1250, 1800, 2350]);
  });

  it('builds a RARP reverse request like announce_self: broadcast, sha = tha = MAC, addresses zero, 60 bytes', async () => {
    const hex = await python("announce.rarp_frame(announce.mac_bytes('02:00:00:00:01:0a')).hex()");
    expect(hex).to.equal(
      'ffffffffffff' + '02000000010a' + '8035' + '0001' + '0800' + '06' + '04' + '0003' +
        '02000000010a' + '00000000' + '02000000010a' + '00000000' + '00'.repeat(18),
    );
  });

  it('builds a gratuitous ARP request: spa = tpa = the IP, tha zero', async () => {
    const hex = await python(
      "announce.garp_frame(announce.mac_bytes('02:00:00:00:01:0a'), bytes([10, 0, 1, 10])).hex()",
    );
    expect(hex).to.equal(
      'ffffffffffff' + '02000000010a' + '0806' + '0001' + '0800' + '06' + '04' + '0001' +
        '02000000010a' + '0a00010a' + '000000000000' + '0a00010a' + '00'.repeat(18),
    );
  });
});
