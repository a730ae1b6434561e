import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export { eventually } from '@pullover/sandbox';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CONTROLLER_CLI = join(ROOT, 'packages/controller/dist/cli.js');
export const AGENT_CLI = join(ROOT, 'packages/agent/dist/cli.js');

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

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    process.kill(this.pid, signal);
    await this.exited;
  }
}

/** Starts `node cli args…`, or `launcher… cli args…` (e.g. `ip netns exec NS node`), logging to dir/name.log. */
export async function startProcess(
  cli: string,
  args: string[],
  dir: string,
  name: string,
  launcher: string[] = [process.execPath],
): Promise<Proc> {
  const logFile = join(dir, `${name}.log`);
  const pidFile = join(dir, `${name}.pid`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const [command, ...before] = launcher as [string, ...string[]];
  const child = spawn(command, [...before, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
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
