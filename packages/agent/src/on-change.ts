import { spawn } from 'node:child_process';
import type { Mapping } from '@pullover/protocol';
import type { Logger } from 'pino';

const ON_CHANGE_TIMEOUT_MS = 10_000;

/**
 * Runs the operator's `on_change` command (e.g. `nscd -i hosts`) after the file changed. Bounded:
 * a hung command must not stop the agent from following the next change.
 */
export function runOnChange(command: string, mapping: Mapping, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        PULLOVER_VERSION: String(mapping.version),
        PULLOVER_ENTRIES: mapping.clusters
          .flatMap((c) => c.entries.map((e) => `${e.hostname}=${e.address}`))
          .join(' '),
      },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-500);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ON_CHANGE_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      log.error({ on_change: command }, `on_change "${command}" could not start: ${error.message}`);
      resolve();
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) log.info({ on_change: command }, `on_change "${command}" done`);
      else
        log.error(
          { on_change: command, exit_code: code, signal },
          `on_change "${command}" failed (${signal ? `killed by ${signal}` : `exit ${code}`}): ${stderr.trim()}`,
        );
      resolve();
    });
  });
}
