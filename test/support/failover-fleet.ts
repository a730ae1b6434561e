import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FailoverRecord } from '@pullover/protocol';
import type { Proc } from '@pullover/sandbox';
import { Fleet } from './fleet.js';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type Cluster, type Server, startCluster, waitFor } from './mariadb.js';

export interface FailoverFleetOptions {
  /** Cluster keys beyond mysql and servers (monitor, failover), indented by four spaces. */
  clusterExtra?: string;
  /** Default: mysql1, mysql2 (candidate), mysql3. */
  servers?: { name: string; candidate?: boolean; no_master?: boolean }[];
  /** The monitoring user's password file (default: the right one). */
  passwordFile?: string;
  agents?: number;
  /** More keys of each agent.yaml. */
  agentExtra?: string;
  /** How to run each agent's node (default: this node), e.g. under faketime. */
  agentLauncher?: string[];
  /** How to start the controller (default: fleet.startController()). */
  startController?: (fleet: Fleet) => Promise<unknown>;
}

const started: Fleet[] = [];

/**
 * One real cluster for the test file, back to its initial topology before each test; the fleets
 * the tests start are destroyed after each. `ready` receives the cluster once it runs.
 */
export function realCluster(id: number, ready: (cluster: Cluster) => void): void {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster({ id });
    ready(cluster);
  });
  afterAll(() => cluster?.destroy());
  beforeEach(() => cluster?.reset());
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.destroy()));
  });
}

/** A controller and agents watching a real MariaDB cluster; resolves once every agent maps the hostname to mysql1. */
export async function startFailoverFleet(cluster: Cluster, opts: FailoverFleetOptions = {}): Promise<Fleet> {
  const replFile = join(cluster.dir, 'repl.password');
  await writeFile(replFile, `${cluster.repl.password}\n`);
  const master = cluster.master;
  const fleet = await Fleet.create({
    agents: opts.agents ?? 2,
    ...(opts.agentExtra ? { agentExtra: opts.agentExtra } : {}),
    mysql: {
      port: master.port,
      user: cluster.admin.user,
      password_file: opts.passwordFile ?? cluster.admin.passwordFile,
      replication_user: cluster.repl.user,
      replication_password_file: replFile,
    },
    servers: (opts.servers ?? [{ name: 'mysql1' }, { name: 'mysql2', candidate: true }, { name: 'mysql3' }]).map(
      (s) => ({ ...s, address: cluster.server(s.name).address }),
    ),
    clusterExtra: opts.clusterExtra ?? '',
  });
  started.push(fleet);
  await (opts.startController ? opts.startController(fleet) : fleet.startController());
  for (const agent of fleet.agents) await fleet.startAgent(agent, undefined, opts.agentLauncher);
  try {
    await waitFor(
      async () => (await resolvedBy(fleet)).every((a) => a === master.address),
      10_000,
      `agents to map the hostname to ${master.name}`,
    );
  } catch (error) {
    const tail = async (proc: Proc | undefined) => (proc ? proc.logTail(8) : '');
    const logs = `controller:\n${await tail(fleet.controller)}\n${fleet.agents[0]?.name}:\n${await tail(fleet.agents[0]?.proc)}`;
    await fleet.destroy();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
  return fleet;
}

/** The address each agent's hosts file gives the master hostname. */
export function resolvedBy(fleet: Fleet): Promise<(string | undefined)[]> {
  return Promise.all(fleet.agents.map((a) => fleet.resolve(a)));
}

export async function waitAgentsOn(fleet: Fleet, server: Server, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => (await resolvedBy(fleet)).every((a) => a === server.address),
    timeoutMs,
    `agents to follow ${server.name}`,
  );
}

export async function failoverHistory(fleet: Fleet): Promise<FailoverRecord[]> {
  const response = await fleet.api('GET', '/v1/history');
  return ((await response.json()) as { failovers: FailoverRecord[] }).failovers;
}

/**
 * Waits until `count` failovers are on record and none is still running. (GET /v1/history also
 * lists the one under way: its record appears before it is over.)
 */
export async function waitFailoversFiled(fleet: Fleet, count: number, timeoutMs = 15_000): Promise<FailoverRecord[]> {
  let records: FailoverRecord[] = [];
  await waitFor(
    async () => {
      records = await failoverHistory(fleet);
      return records.length === count && records.every((r) => r.outcome !== 'running');
    },
    timeoutMs,
    `${count} failover(s) to be filed`,
  );
  return records;
}

export async function rowIds(s: Server): Promise<Set<number>> {
  const rows = await s.query<{ id: number }[]>('SELECT id FROM app.writes');
  return new Set(rows.map((r) => Number(r.id)));
}

export const STEPS = ['detected', 'confirmed', 'fenced', 'caught-up', 'promoted', 'repointed', 'published', 'agents-applied'];
