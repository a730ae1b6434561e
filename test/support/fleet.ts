import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_BEGIN, BLOCK_END, type Status } from '@pullover/protocol';
import { addressIn } from '@pullover/sandbox';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  AGENT_CLI,
  CONTROLLER_CLI,
  eventually,
  freePort,
  type Proc,
  runCli,
  startProcess,
} from './processes.js';
import { selfSignedCert } from './tls.js';

export const HOSTNAME = 'mysql-master.myservice.com';
/** Loopback addresses stand in for the MySQL servers: the agents' greeting probes stay on this machine. */
export const SERVERS = [
  { name: 'mysql1', address: '127.0.10.1' },
  { name: 'mysql2', address: '127.0.10.2' },
  { name: 'mysql3', address: '127.0.10.3' },
] as const;

export const ORIGINAL_HOSTS = `127.0.0.1\tlocalhost
127.0.1.1\tapp.example\tapp

# hand-written before pullover
${SERVERS[0].address} ${HOSTNAME}

::1     localhost ip6-localhost ip6-loopback
`;

/** The bytes of an agent's file once HOSTNAME points at `address`: the block on top, the old line off. */
export function expectedHosts(address: string): string {
  return `${BLOCK_BEGIN}
${address}\t${HOSTNAME}
${BLOCK_END}
127.0.0.1\tlocalhost
127.0.1.1\tapp.example\tapp

# hand-written before pullover
#pullover-off# ${SERVERS[0].address} ${HOSTNAME}

::1     localhost ip6-localhost ip6-loopback
`;
}

export interface FleetOptions {
  agents?: number;
  /** Overrides mysql.port only. */
  mysqlPort?: number;
  agentExtra?: string;
  tls?: boolean;
  /** The cluster's mysql section (default: port 3306, placeholder users and password files). */
  mysql?: {
    port: number;
    user: string;
    password_file: string;
    replication_user: string;
    replication_password_file: string;
  };
  /** Default: SERVERS, mysql2 the candidate. */
  servers?: { name: string; address: string; candidate?: boolean; no_master?: boolean }[];
  /** More keys of the cluster (monitor, failover), indented by four spaces. */
  clusterExtra?: string;
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

/** One controller and its agents in a temp dir, all real processes. */
export class Fleet {
  readonly agents: AgentHandle[] = [];
  controller?: Proc;
  port = 0;
  private constructor(readonly dir: string) {}

  /** With TLS: the controller serves HTTPS with a self-signed certificate, agents trust it by ca_file. */
  private tls?: { cert: string; key: string; dispatcher: Agent };

  static async create(opts: FleetOptions = {}): Promise<Fleet> {
    const fleet = new Fleet(await mkdtemp(join(tmpdir(), 'pullover-test-')));
    if (opts.tls) {
      const files = selfSignedCert(fleet.dir, 'controller', 'ctl1.internal', 'IP:127.0.0.1');
      fleet.tls = {
        ...files,
        dispatcher: new Agent({ connect: { ca: await readFile(files.cert, 'utf8') } }),
      };
    }
    await fleet.setup(opts);
    return fleet;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
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

  private async setup(opts: FleetOptions): Promise<void> {
    this.port = await freePort();
    await writeFile(this.adminTokenFile, `${randomBytes(24).toString('hex')}\n`);
    // One line per agent, added with the agent: a running controller reads the file again on change.
    await writeFile(this.agentTokenFile, '# NAME TOKEN, one line per agent\n');
    const password = join(this.dir, 'mysql-password');
    await writeFile(password, 'unused-until-failover\n');
    const mysql = opts.mysql ?? {
      port: 3306,
      user: 'pullover',
      password_file: password,
      replication_user: 'repl',
      replication_password_file: password,
    };
    const servers = opts.servers ?? SERVERS.map((s, i) => ({ ...s, ...(i === 1 ? { candidate: true } : {}) }));
    await writeFile(
      this.controllerConfig,
      `listen: 127.0.0.1:${this.port}
state_dir: ${this.stateDir}
${this.tls ? `tls: { cert_file: ${this.tls.cert}, key_file: ${this.tls.key} }\n` : ''}auth:
  agent_tokens_file: ${this.agentTokenFile}
  admin_tokens_file: ${this.adminTokenFile}
clusters:
  - name: myservice
    master_hostnames: [${HOSTNAME}]
    mysql: ${JSON.stringify({ ...mysql, port: opts.mysqlPort ?? mysql.port })}
    servers:
${servers.map((s) => `      - ${JSON.stringify(s)}`).join('\n')}
${opts.clusterExtra ?? ''}`,
    );
    for (let i = 1; i <= (opts.agents ?? 0); i++) await this.addAgent(`app${i}`, opts.agentExtra ?? '');
  }

  async addAgent(name: string, extra = '', controllers = [this.url]): Promise<AgentHandle> {
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
    await writeFile(handle.hostsFile, ORIGINAL_HOSTS);
    await writeFile(handle.tokenFile, `${handle.token}\n`, { mode: 0o600 });
    await appendFile(this.agentTokenFile, `${name} ${handle.token}\n`);
    await writeFile(
      handle.configFile,
      `name: ${name}
controllers: [${controllers.join(', ')}]
token_file: ${handle.tokenFile}
hosts_file: ${handle.hostsFile}
state_dir: ${handle.stateDir}
check_interval: 1s
backoff: { min: 100ms, max: 500ms }
${this.tls ? `ca_file: ${this.tls.cert}\n` : ''}${extra}`,
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

  /** `launcher` runs node differently (default: this node), e.g. inside a network namespace. */
  async startController(launcher?: string[]): Promise<Proc> {
    this.controller = await startProcess(
      CONTROLLER_CLI,
      ['run', '--config', this.controllerConfig],
      this.dir,
      'controller',
      launcher,
    );
    await eventually(async () => (await this.fetch('/healthz')).ok, 10_000, 'the controller to listen');
    return this.controller;
  }

  /** `cli`: another build of the agent, e.g. the single-file bundle; `launcher` as for startController. */
  async startAgent(agent: AgentHandle, cli = AGENT_CLI, launcher?: string[]): Promise<Proc> {
    agent.proc = await startProcess(cli, ['run', '--config', agent.configFile], this.dir, agent.name, launcher);
    return agent.proc;
  }

  admin(args: string[]) {
    const ca = this.tls ? ['--ca-file', this.tls.cert] : [];
    return runCli(CONTROLLER_CLI, [...args, '--url', this.url, '--token-file', this.adminTokenFile, ...ca]);
  }

  /** A request to the controller, trusting its certificate when it has one. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const tls = this.tls ? { dispatcher: this.tls.dispatcher } : {};
    return undiciFetch(`${this.url}${path}`, { ...init, ...tls } as never) as unknown as Promise<Response>;
  }

  /** An admin call straight over HTTP: quicker than spawning the CLI, for storms. */
  async api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    const token = (await readFile(this.adminTokenFile, 'utf8')).trim();
    return this.fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }

  async status(): Promise<Status> {
    const response = await this.api('GET', '/v1/status');
    if (!response.ok) throw new Error(`status: HTTP ${response.status}`);
    return (await response.json()) as Status;
  }

  async setMaster(server: string): Promise<void> {
    const result = await this.admin(['set-master', '--cluster', 'myservice', server]);
    if (result.code !== 0) throw new Error(`set-master ${server} failed: ${result.stderr}`);
  }

  /** The address the agent's hosts file gives the master hostname, read as a resolver would: first line wins. */
  async resolve(agent: AgentHandle): Promise<string | undefined> {
    return resolveInHosts(await readFile(agent.hostsFile, 'utf8'), HOSTNAME);
  }

  async stop(): Promise<void> {
    await Promise.all([this.controller, ...this.agents.map((a) => a.proc)].map((p) => p?.kill('SIGKILL')));
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** glibc's files backend, reduced: the first non-comment line naming the host wins. */
export const resolveInHosts = addressIn;
