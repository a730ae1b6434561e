// Several controllers on one etcd around one cluster: the ProcessFleet's files, one controller-<i>.yaml
// per controller (its own name, port and state dir, the same store.etcd), agents given every URL.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually } from '../wait.js';
import { type ControllerSpec, ProcessFleet } from './fleet.js';
import { CONTROLLER_CLI, freePort, type Proc, startProcess } from './process.js';

export interface EtcdStoreSpec {
  endpoints: string[];
  /** Each fleet its own, so that tests sharing an etcd do not see each other's state. */
  prefix: string;
  /** Controller `index`'s endpoints, when not all of them (a controller that can be cut off alone). */
  endpointsOf?: (index: number) => string[];
  /** Whole seconds, e.g. "3s". */
  leaseTtl: string;
  retryTimeout: string;
}

export interface LeaderView {
  index: number;
  name: string;
  term: number;
}

export class HaFleet extends ProcessFleet {
  readonly ports: number[] = [];
  readonly controllers: (Proc | undefined)[] = [];

  get urls(): string[] {
    return this.ports.map((port) => `${this.scheme}://127.0.0.1:${port}`);
  }

  configOf(index: number): string {
    return join(this.dir, `controller-${index + 1}.yaml`);
  }

  /** Writes the tokens and one config per controller, named c1, c2…; `fleet.url` is c1's until use() says otherwise. */
  async configureControllers(spec: ControllerSpec, etcd: EtcdStoreSpec, count: number): Promise<void> {
    await this.configureController(spec);
    const base = await readFile(this.controllerConfig, 'utf8');
    for (let i = 0; i < count; i++) {
      const port = i === 0 ? this.port : await freePort();
      this.ports.push(port);
      const store = `store:
  etcd:
    endpoints: [${(etcd.endpointsOf?.(i) ?? etcd.endpoints).join(', ')}]
    prefix: ${etcd.prefix}
    name: c${i + 1}
    lease_ttl: ${etcd.leaseTtl}
    retry_timeout: ${etcd.retryTimeout}
`;
      const config = base
        .replace(/^listen: .*$/m, `listen: 127.0.0.1:${port}\n${store}`)
        .replace(/^state_dir: .*$/m, `state_dir: ${join(this.dir, `state-${i + 1}`)}`);
      await writeFile(this.configOf(i), config);
    }
  }

  /** Requests (fetch, adminRequest) and `url` go to controller `index` from now on. */
  use(index: number): this {
    this.port = this.ports[index] as number;
    const proc = this.controllers[index];
    if (proc) this.controller = proc;
    return this;
  }

  /** Starts (or restarts) controller `index`; resolves once it answers /healthz. */
  async startControllerAt(index: number, timeoutMs = 15_000): Promise<Proc> {
    const proc = await startProcess(CONTROLLER_CLI, ['run', '--config', this.configOf(index)], this.dir, `controller-${index + 1}`);
    this.procs.push(proc);
    this.controllers[index] = proc;
    const url = this.urls[index] as string;
    await eventually(
      async () => {
        if (!proc.running) throw new Error(`controller c${index + 1} exited: ${await proc.logTail()}`);
        return (await fetch(`${url}/healthz`)).ok;
      },
      timeoutMs,
      `controller c${index + 1} to listen`,
    );
    return proc;
  }

  /** Who leads, as the running controllers agree it; undefined while they do not (or nobody leads). */
  async leader(): Promise<LeaderView | undefined> {
    const views = await Promise.all(
      this.urls.map(async (url, index) => {
        if (!this.controllers[index]?.running) return undefined;
        const auth = { authorization: `Bearer ${this.adminToken}` };
        // A frozen controller (SIGSTOP) accepts the connection and never answers.
        const signal = AbortSignal.timeout(1000);
        const response = await fetch(`${url}/v1/leader`, { headers: auth, signal }).catch(() => undefined);
        if (!response?.ok) return null;
        const { self, leader } = (await response.json()) as { self: { role: string }; leader: LeaderView | null };
        return self.role === 'leader' ? { index, name: leader?.name ?? '', term: leader?.term ?? 0 } : null;
      }),
    );
    const leaders = views.filter((v): v is LeaderView => v !== undefined && v !== null);
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /** Until exactly one running controller says it leads (and not `not`, a leader just killed). */
  async waitLeader(timeoutMs: number, not?: string): Promise<LeaderView> {
    return eventually(
      async () => {
        const leader = await this.leader();
        return leader && leader.name !== not ? leader : undefined;
      },
      timeoutMs,
      `one controller to lead${not ? ` (not ${not})` : ''}`,
    );
  }
}
