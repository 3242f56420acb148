// The controller's Node flags have one home (controller/node-flags.ts); package.json's start script
// and the Dockerfile cannot import it, so they are checked here to carry the same flags.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { CONTROLLER_NODE_FLAGS } from '../../controller/node-flags.js';

describe('the controller\'s Node flags', () => {
  it('npm start runs the built controller with them', () => {
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    expect(start).to.include(`node ${CONTROLLER_NODE_FLAGS.join(' ')} dist/controller/main.js`);
  });

  it('the Docker image runs it with them', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? '[]')).to.deep.equal(['node', ...CONTROLLER_NODE_FLAGS, 'dist/controller/main.js']);
  });

  it('are flags this Node accepts', async () => {
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync(process.execPath, [...CONTROLLER_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
  });
});
