// The two commands the sandbox's network faults are made of. Both need root.
import { execFileSync } from 'node:child_process';

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function tc(...args: string[]): string {
  return execFileSync('tc', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** For removals: what is already gone is fine. */
export function quietly(command: (...args: string[]) => string, ...args: string[]): void {
  try {
    command(...args);
  } catch {
    // not there
  }
}
