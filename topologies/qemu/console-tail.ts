// What a guest's serial console says when it stops answering: its kernel's first complaint.

import { readFileSync } from 'node:fs';

/**
 * The end of a guest's console log on one line (diagnostics): its kernel's first complaint (a BUG,
 * an Oops, a panic) and the functions of its call trace if it has one, else the last lines.
 */
export function consoleTail(path: string, lines = 8): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '(unreadable)';
  }
  const all = text.trimEnd().split('\n').map((l) => l.replace(/^\[\s*[\d.]+\]\s*/, '').trim());
  const first = all.findIndex((l) => /kernel BUG|Oops|Kernel panic|general protection|BUG:/.test(l));
  if (first < 0) return all.slice(-lines).join(' | ');
  const trace = all.slice(first).filter((l) => /^[\w.]+\+0x/.test(l)).slice(0, lines).map((l) => l.split('+')[0]);
  return `${all[first]}${trace.length > 0 ? ` (call trace: ${trace.join(' < ')})` : ''}`;
}
