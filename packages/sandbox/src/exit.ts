// Whatever ends a test process (a crash, SIGTERM from vitest, Ctrl-C), nothing the sandbox created
// outlives it: every process started (mariadbd, etcd) is SIGKILLed by its PID, the network set up
// for the servers is torn down, and the files of clusters not destroyed yet are removed — in that order.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const live = new Set<ChildProcess>();
const teardowns = new Set<() => void>();
const leftovers = new Set<string>();
let hooked = false;

function cleanUpSync(): void {
  for (const child of live) {
    try {
      process.kill(child.pid as number, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const teardown of [...teardowns]) {
    try {
      teardown();
    } catch {
      // the next start of that cluster id removes what is left
    }
  }
  teardowns.clear();
  try {
    // In order: a cluster's dir before the file naming it, which lets the next start reap what is left.
    for (const path of leftovers) rmSync(path, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // still being written (mariadb-install-db): the next startCluster of that id reaps it
  }
  leftovers.clear();
}

/** `child` is SIGKILLed if this process exits or is interrupted while it runs. */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  hookProcessExit();
  const forget = () => live.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
}

/** `path` is removed if this process exits or is interrupted before keepOnExit(path). */
export function removeOnExit(path: string): void {
  leftovers.add(path);
  hookProcessExit();
}

export function keepOnExit(path: string): void {
  leftovers.delete(path);
}

/** `teardown` (synchronous) runs if this process exits or is interrupted; call the returned function to cancel. */
export function onExitSync(teardown: () => void): () => void {
  teardowns.add(teardown);
  hookProcessExit();
  return () => teardowns.delete(teardown);
}

function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', cleanUpSync);
  // Node's default SIGTERM/SIGINT handling skips 'exit' handlers; vitest stops its workers with SIGTERM.
  // Re-raised rather than process.exit(), which vitest replaces inside tests.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      cleanUpSync();
      process.kill(process.pid, signal);
    });
  }
}
