/**
 * The lab guest's kernel and initramfs, built by scripts/build-guest.sh from Debian packages into a
 * cache outside git (default <repo>/.cache/guest, or SEAMLESS_GUEST_DIR). Building is idempotent:
 * a few milliseconds when nothing changed, a few seconds otherwise.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { topologyFile } from '../agent-channel.js';

const run = promisify(execFile);

export interface GuestImage {
  readonly dir: string;
  /** The kernel QEMU boots: an uncompressed vmlinux (PVH entry) when the build could extract one. */
  readonly kernel: string;
  readonly initrd: string;
}

export const REPO_ROOT = dirname(dirname(topologyFile('seamless_topo.py')));
const BUILD_SCRIPT = join(REPO_ROOT, 'scripts', 'build-guest.sh');

export function defaultGuestDir(): string {
  return process.env.SEAMLESS_GUEST_DIR || join(REPO_ROOT, '.cache', 'guest');
}

/** Build the guest if needed (or if its sources changed) and return its files. */
export async function ensureGuestImage(dir = defaultGuestDir()): Promise<GuestImage> {
  try {
    await run('bash', [BUILD_SCRIPT, dir], { timeout: 300_000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`building the QEMU guest failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
  const image = { dir, kernel: join(dir, 'vmlinux'), initrd: join(dir, 'initramfs.cpio.gz') };
  for (const file of [image.kernel, image.initrd]) {
    if (!existsSync(file)) throw new Error(`building the QEMU guest left no ${file}`);
  }
  return image;
}
