import { readFile } from 'node:fs/promises';
import { BLOCK_BEGIN, BLOCK_END, type Status } from '@pullover/protocol';
import { addressIn, type AgentHandle, CONTROLLER_CLI, ProcessFleet, runCli } from '@pullover/sandbox';
import { Agent, fetch as undiciFetch } from 'undici';
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

export type { AgentHandle } from '@pullover/sandbox';

/** One controller and its agents in a temp dir, all real processes (the sandbox's rig), seen the way the tests use it. */
export class Fleet extends ProcessFleet {
  /** With TLS: the controller serves HTTPS with a self-signed certificate, agents trust it by ca_file. */
  private tls?: { cert: string; key: string; dispatcher: Agent };

  static async create(opts: FleetOptions = {}): Promise<Fleet> {
    const fleet = new Fleet(await ProcessFleet.makeDir('pullover-test-'));
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

  private async setup(opts: FleetOptions): Promise<void> {
    const password = await this.secretFile('mysql-password', 'unused-until-failover');
    const mysql = opts.mysql ?? {
      port: 3306,
      user: 'pullover',
      password_file: password,
      replication_user: 'repl',
      replication_password_file: password,
    };
    await this.configureController({
      cluster: 'myservice',
      masterHostnames: [HOSTNAME],
      mysql: { ...mysql, port: opts.mysqlPort ?? mysql.port },
      servers: opts.servers ?? SERVERS.map((s, i) => ({ ...s, ...(i === 1 ? { candidate: true } : {}) })),
      ...(opts.clusterExtra ? { clusterExtra: opts.clusterExtra } : {}),
      ...(this.tls ? { tls: this.tls } : {}),
    });
    for (let i = 1; i <= (opts.agents ?? 0); i++) await this.addAgent(`app${i}`, opts.agentExtra ?? '');
  }

  /** An agent on a copy of ORIGINAL_HOSTS, polling every second; `extra`: more keys of its agent.yaml. */
  addAgent(name: string, extra = '', controllers = [this.url]): Promise<AgentHandle> {
    const ca = this.tls ? `ca_file: ${this.tls.cert}\n` : '';
    return this.writeAgent(name, {
      hosts: ORIGINAL_HOSTS,
      extra: `check_interval: 1s\nbackoff: { min: 100ms, max: 500ms }\n${ca}${extra}`,
      controllers,
    });
  }

  admin(args: string[]) {
    const ca = this.tls ? ['--ca-file', this.tls.cert] : [];
    return runCli(CONTROLLER_CLI, [...args, '--url', this.url, '--token-file', this.adminTokenFile, ...ca]);
  }

  /** A request to the controller, trusting its certificate when it has one. */
  override fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const tls = this.tls ? { dispatcher: this.tls.dispatcher } : {};
    return undiciFetch(`${this.url}${path}`, { ...init, ...tls } as never) as unknown as Promise<Response>;
  }

  /** An admin call straight over HTTP, with the token the file holds now: quicker than spawning the CLI, for storms. */
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

  /** SIGKILLs every process, keeps the dir. */
  async stop(): Promise<void> {
    await this.stopProcesses();
  }
}

/** glibc's files backend, reduced: the first non-comment line naming the host wins. */
export const resolveInHosts = addressIn;
