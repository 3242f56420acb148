// The controller's name and version, from package.json (found beside the sources or beside dist/).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (cached = (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0');
    dir = dirname(dir);
  }
  return (cached = '0.0.0');
}
