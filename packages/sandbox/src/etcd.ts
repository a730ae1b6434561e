// Real etcd clusters (Debian's etcd-server, v3 API) on loopback for the several-controllers tests:
// every member a process we started, signalled only by its PID, its data under a temp dir.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepOnExit, removeOnExit } from './exit.js';
import { OwnedProcess } from './owned-process.js';
import { eventually } from './wait.js';

export const ETCD = '/usr/bin/etcd';

export interface EtcdOptions {
  /** Members listen on 127.0.<id>.1..n: give every test file its own id (70–75 are etcd's). */
  id: number;
  members?: 1 | 3 | 5;
}

/** One etcd member: its data and log under `dir`, its PID in `dir/etcd.pid` for the next run's reaping. */
export class EtcdMember extends OwnedProcess {
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly logFile: string;

  constructor(
    readonly name: string,
    readonly address: string,
    readonly dir: string,
    private readonly args: readonly string[],
    clientPort: number,
    peerPort: number,
  ) {
    super();
    this.clientUrl = `http://${address}:${clientPort}`;
    this.peerUrl = `http://${address}:${peerPort}`;
    this.logFile = join(dir, 'etcd.log');
  }

  /** Starts the member on its data dir; resolves once the process runs (the cluster may still lack quorum). */
  async start(): Promise<void> {
    if (this.isRunning) throw new Error(`${this.name} is already running`);
    await mkdir(this.dir, { recursive: true });
    const log = openSync(this.logFile, 'a');
    const child = spawn(ETCD, [...this.args], { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    this.adopt(child);
    await writeFile(join(this.dir, 'etcd.pid'), `${child.pid}\n`);
  }

  /** True when this member answers /health with a leader it can reach (a quorum). */
  async isHealthy(timeoutMs = 1000): Promise<boolean> {
    try {
      const response = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = (await response.json()) as { health?: string };
      return body.health === 'true';
    } catch {
      return false;
    }
  }
}

export class EtcdCluster {
  private destroyed = false;

  constructor(
    readonly id: number,
    readonly dir: string,
    readonly members: readonly EtcdMember[],
  ) {}

  /** Every member's client URL, in member order: what a controller's store.etcd.endpoints lists. */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  member(name: string): EtcdMember {
    const found = this.members.find((m) => m.name === name);
    if (!found) throw new Error(`no etcd member ${name}`);
    return found;
  }

  /** Resolves once every running, unpaused member reports a healthy cluster. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const up = this.members.filter((m) => m.isRunning && !m.isPaused);
    await eventually(async () => (await Promise.all(up.map((m) => m.isHealthy()))).every(Boolean), timeoutMs, 'etcd healthy');
  }

  /** Stops every member by PID and removes the temp dir; safe to repeat and after a failed start. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.members.map((m) => m.kill('SIGKILL').catch(() => undefined)));
    await rm(this.dir, { recursive: true, force: true });
    await rm(stateFile(this.id), { force: true });
    keepOnExit(this.dir);
    keepOnExit(stateFile(this.id));
  }
}

/** Members `etcd1..n` on 127.0.<id>.1..n (client port 23790+n, peer 23800+n), started and healthy. */
export async function startEtcd(opts: EtcdOptions): Promise<EtcdCluster> {
  const { id, members: count = 3 } = opts;
  if (!Number.isInteger(id) || id < 1 || id > 254) throw new Error(`etcd id ${id} must be 1..254`);
  await reapPrevious(id);
  const dir = await mkdtemp(join(tmpdir(), `pullover-etcd-${id}-`));
  await writeFile(stateFile(id), dir);
  removeOnExit(dir);
  removeOnExit(stateFile(id));
  const numbers = Array.from({ length: count }, (_, i) => i + 1);
  const peer = (n: number) => `http://127.0.${id}.${n}:${23800 + n}`;
  const initial = numbers.map((n) => `etcd${n}=${peer(n)}`).join(',');
  const members = numbers.map((n) => {
    const name = `etcd${n}`;
    const client = `http://127.0.${id}.${n}:${23790 + n}`;
    const memberDir = join(dir, name);
    const args = [
      `--name=${name}`,
      `--data-dir=${join(memberDir, 'data')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer(n)}`,
      `--initial-advertise-peer-urls=${peer(n)}`,
      `--initial-cluster=${initial}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=pullover-${id}`,
      // etcd 3.4 keeps every revision until compacted; the store deletes history keys and rewrites `state`.
      '--auto-compaction-mode=revision',
      '--auto-compaction-retention=1000',
      '--logger=zap',
      '--log-outputs=stderr',
    ];
    return new EtcdMember(name, `127.0.${id}.${n}`, memberDir, args, 23790 + n, 23800 + n);
  });
  const cluster = new EtcdCluster(id, dir, members);
  try {
    await Promise.all(members.map((m) => m.start()));
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    const logs = await Promise.all(members.map((m) => readFile(m.logFile, 'utf8').catch(() => '(no log)')));
    await cluster.destroy();
    throw new Error(`etcd ${id} did not start: ${String(err)}\n${logs.map((l) => l.slice(-2000)).join('\n')}`);
  }
}

function stateFile(id: number): string {
  return join(tmpdir(), `pullover-etcd-${id}.dir`);
}

/** The PID in `pidFile` if that process is an etcd whose command line names `dir` — i.e. one we started. */
function ownedPid(pidFile: string, dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(ETCD) && cmdline.includes(dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

// A previous run killed before its exit hooks ran left members on our addresses: end those (and
// only those: a PID counts only if its command line names that run's dir), and remove its files.
async function reapPrevious(id: number): Promise<void> {
  const dir = await readFile(stateFile(id), 'utf8').catch(() => undefined);
  if (!dir) return;
  for (let n = 1; n <= 5; n++) {
    const pidFile = join(dir, `etcd${n}`, 'etcd.pid');
    const pid = ownedPid(pidFile, dir);
    if (pid === undefined) continue;
    process.kill(pid, 'SIGKILL');
    await eventually(() => ownedPid(pidFile, dir) === undefined, 10_000, `leftover etcd ${pid} to die`);
  }
  await rm(dir, { recursive: true, force: true });
  await rm(stateFile(id), { force: true });
}
