// One controller and its agents around a cluster, all real processes in one temp dir: controller.yaml,
// the admin token, one `NAME TOKEN` line per agent, each agent's config, token, hosts file and state
// dir. Shared by the integration tests, the demo, the nemesis and the benches.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../wait.js';
import { AGENT_CLI, CONTROLLER_CLI, freePort, type Proc, signalPid, startProcess } from './process.js';

export interface MysqlSection {
  port: number;
  user: string;
  password_file: string;
  replication_user: string;
  replication_password_file: string;
}

export interface ServerEntry {
  name: string;
  address: string;
  candidate?: boolean;
  no_master?: boolean;
}

export interface ControllerSpec {
  cluster: string;
  masterHostnames: string[];
  mysql: MysqlSection;
  servers: ServerEntry[];
  /** More keys of the cluster (monitor, failover…), each line indented by four spaces. */
  clusterExtra?: string;
  /** The controller serves HTTPS with this certificate. */
  tls?: { cert: string; key: string };
}

export interface AgentOptions {
  /** The hosts file's content before the agent manages it. */
  hosts: string;
  /** More keys of agent.yaml, one per line. */
  extra?: string;
  /** Default: this fleet's controller. */
  controllers?: string[];
}

export interface AgentHandle {
  name: string;
  /** Its own token, on its line `NAME TOKEN` of the controller's agent tokens file. */
  token: string;
  tokenFile: string;
  configFile: string;
  hostsFile: string;
  stateDir: string;
  proc?: Proc;
}

export class ProcessFleet {
  readonly agents: AgentHandle[] = [];
  controller?: Proc;
  port = 0;
  readonly adminToken = randomBytes(24).toString('hex');
  protected scheme: 'http' | 'https' = 'http';
  /** Every process started, in order: stopped all at once. */
  readonly procs: Proc[] = [];

  constructor(readonly dir: string) {}

  /** A fresh temp dir for a fleet. */
  static makeDir(prefix: string): Promise<string> {
    return mkdtemp(join(tmpdir(), prefix));
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  get controllerConfig(): string {
    return join(this.dir, 'controller.yaml');
  }

  get adminTokenFile(): string {
    return join(this.dir, 'admin-tokens');
  }

  get agentTokenFile(): string {
    return join(this.dir, 'agent-tokens');
  }

  get stateDir(): string {
    return join(this.dir, 'controller-state');
  }

  /** Writes `content` to dir/name, readable by its owner only; returns the path. */
  async secretFile(name: string, content: string): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, `${content}\n`, { mode: 0o600 });
    return path;
  }

  /** Picks the controller's port and writes its tokens and controller.yaml (one cluster). */
  async configureController(spec: ControllerSpec): Promise<void> {
    this.port = await freePort();
    this.scheme = spec.tls ? 'https' : 'http';
    await this.secretFile('admin-tokens', this.adminToken);
    // One line per agent, added with the agent: a running controller reads the file again on change.
    await this.secretFile('agent-tokens', '# NAME TOKEN, one line per agent');
    const tls = spec.tls ? `tls: { cert_file: ${spec.tls.cert}, key_file: ${spec.tls.key} }\n` : '';
    await writeFile(
      this.controllerConfig,
      `listen: 127.0.0.1:${this.port}
state_dir: ${this.stateDir}
${tls}auth:
  agent_tokens_file: ${this.agentTokenFile}
  admin_tokens_file: ${this.adminTokenFile}
clusters:
  - name: ${spec.cluster}
    master_hostnames: [${spec.masterHostnames.join(', ')}]
    mysql: ${JSON.stringify(spec.mysql)}
    servers:
${spec.servers.map((s) => `      - ${JSON.stringify(s)}`).join('\n')}
${spec.clusterExtra ?? ''}`,
    );
  }

  /** Writes agent `name`'s files and its token line; with the controller running, waits until it has read that line. */
  async writeAgent(name: string, opts: AgentOptions): Promise<AgentHandle> {
    const dir = join(this.dir, name);
    await mkdir(dir, { recursive: true });
    const handle: AgentHandle = {
      name,
      token: randomBytes(24).toString('hex'),
      tokenFile: join(dir, 'token'),
      configFile: join(dir, 'agent.yaml'),
      hostsFile: join(dir, 'hosts'),
      stateDir: join(dir, 'state'),
    };
    await writeFile(handle.hostsFile, opts.hosts);
    await writeFile(handle.tokenFile, `${handle.token}\n`, { mode: 0o600 });
    await appendFile(this.agentTokenFile, `${name} ${handle.token}\n`);
    await writeFile(
      handle.configFile,
      `name: ${name}
controllers: [${(opts.controllers ?? [this.url]).join(', ')}]
token_file: ${handle.tokenFile}
hosts_file: ${handle.hostsFile}
state_dir: ${handle.stateDir}
${opts.extra ?? ''}`,
    );
    this.agents.push(handle);
    if (this.controller?.running) await this.#tokenTaken(handle);
    return handle;
  }

  /** Until the running controller has read the agent's new line (it polls the file once a second). */
  async #tokenTaken(agent: AgentHandle): Promise<void> {
    const poll = () => this.fetch(`/v1/mapping?wait=0&agent=${agent.name}`, { headers: { authorization: `Bearer ${agent.token}` } });
    await eventually(async () => (await poll()).ok, 10_000, `the controller to read ${agent.name}'s token`);
  }

  agent(name: string): AgentHandle {
    const agent = this.agents.find((a) => a.name === name);
    if (!agent) throw new Error(`no agent ${name}`);
    return agent;
  }

  /** A request to the controller (subclasses trust its certificate when it has one). */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, init);
  }

  /** An admin call straight over HTTP. */
  adminRequest(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    return this.fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  /**
   * Starts the controller on controller.yaml (again, after it was killed: same port and state dir);
   * resolves once /healthz answers. `launcher` runs node differently, e.g. inside a network namespace.
   */
  async startController(launcher?: string[], timeoutMs = 10_000): Promise<Proc> {
    const proc = await this.#start('controller', CONTROLLER_CLI, ['run', '--config', this.controllerConfig], launcher);
    this.controller = proc;
    await eventually(
      async () => {
        if (!proc.running) throw new Error(`the controller exited: ${await proc.logTail()}`);
        return (await this.fetch('/healthz')).ok;
      },
      timeoutMs,
      'the controller to listen',
    ).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- controller.log (last lines)\n${await proc.logTail()}`);
    });
    return proc;
  }

  /** Starts (or restarts) `agent` on its config; `cli`: another build of the agent, `launcher` as for startController. */
  async startAgent(agent: AgentHandle, cli = AGENT_CLI, launcher?: string[]): Promise<Proc> {
    agent.proc = await this.#start(agent.name, cli, ['run', '--config', agent.configFile], launcher);
    return agent.proc;
  }

  async #start(name: string, cli: string, args: string[], launcher?: string[]): Promise<Proc> {
    const proc = await startProcess(cli, args, this.dir, name, launcher);
    this.procs.push(proc);
    return proc;
  }

  /** Stops every process started here: SIGKILL, or SIGTERM and SIGKILL after `graceMs`. */
  async stopProcesses(graceMs?: number): Promise<void> {
    await Promise.all(this.procs.map((p) => (graceMs === undefined ? p.kill('SIGKILL') : p.stop(graceMs))));
  }

  /** Stops every process (as stopProcesses) and removes the dir. */
  async destroy(graceMs?: number): Promise<void> {
    await this.stopProcesses(graceMs);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** At exit, when nothing can be awaited: SIGKILL by PID, rm. */
  destroySync(): void {
    for (const proc of this.procs) if (proc.running) signalPid(proc.pid, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
