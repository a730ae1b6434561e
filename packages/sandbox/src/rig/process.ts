// Controller and agent processes of a rig: each started by us and tracked by its PID, so that only
// it is ever signalled, with its output appended to a log file of its own.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The repository this package lives in (src/rig and dist/rig are equally deep). */
export const REPO_ROOT = resolve(import.meta.dirname, '../../../..');
export const CONTROLLER_CLI = join(REPO_ROOT, 'packages/controller/dist/cli.js');
export const AGENT_CLI = join(REPO_ROOT, 'packages/agent/dist/cli.js');

/** process.kill that tolerates a process already gone. */
export function signalPid(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid !== undefined) process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** A process we started, tracked by PID so that only it is ever signalled. */
export class Proc {
  readonly exited: Promise<number | null>;
  constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
    readonly pidFile: string,
  ) {
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async log(): Promise<string> {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }

  /** The last `lines` lines of its log. */
  async logTail(lines = 15): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => undefined);
    return text === undefined ? '(no log)' : text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Sends `signal` by PID; resolves once it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    signalPid(this.pid, signal);
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves once it has exited. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    const timer = setTimeout(() => signalPid(this.pid, 'SIGKILL'), graceMs);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }
}

/**
 * Starts `node cli args…`, or `launcher… cli args…` (e.g. `ip netns exec NS node`), its output
 * appended to dir/name.log (by file descriptor: the log is complete even if we die first) and its PID
 * written to dir/name.pid.
 */
export async function startProcess(
  cli: string,
  args: string[],
  dir: string,
  name: string,
  launcher: string[] = [process.execPath],
): Promise<Proc> {
  const logFile = join(dir, `${name}.log`);
  const pidFile = join(dir, `${name}.pid`);
  const log = openSync(logFile, 'a');
  const [command, ...before] = launcher as [string, ...string[]];
  const child = spawn(command, [...before, cli, ...args], { stdio: ['ignore', log, log] });
  closeSync(log);
  await writeFile(pidFile, `${child.pid}\n`);
  return new Proc(child, logFile, pidFile);
}

/** Runs a CLI to completion. */
export function runCli(
  cli: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A TCP port free on `host` right now (the kernel's pick). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
