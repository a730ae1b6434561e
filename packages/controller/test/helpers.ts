import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentReport } from '@pullover/protocol';
import { afterEach, expect } from 'vitest';
import {
  type ControllerOptions,
  type LoadedConfig,
  openController,
  parseConfig,
  type Store,
} from '../src/index.js';
import { parseAgentTokens } from '../src/config/tokens.js';
import type { ReplicaStatus } from '../src/mysql/dialect.js';
import type { ServerObservation } from '../src/topology/observation.js';

export const AGENT_TOKEN = 'agent-token-0123456789abcdef';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const VIEWER_TOKEN = 'viewer-token-0123456789abcdef';
/** Tokens of their own (`NAME TOKEN` lines), beside AGENT_TOKEN: a bare line, as in the first format. */
export const NAMED_TOKENS = {
  web1: 'web1-token-0123456789abcdef',
  web2: 'web2-token-0123456789abcdef',
  web3: 'web3-token-0123456789abcdef',
} as const;
export const agentAuth = { authorization: `Bearer ${AGENT_TOKEN}` };
export const namedAuth = (name: keyof typeof NAMED_TOKENS) => ({ authorization: `Bearer ${NAMED_TOKENS[name]}` });

/** The agent tokens file the tests' controllers read. */
export const AGENT_TOKENS_TEXT = `# agents\n${AGENT_TOKEN}\n${Object.entries(NAMED_TOKENS).map(([n, t]) => `${n} ${t}\n`).join('')}`;
export const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const viewerAuth = { authorization: `Bearer ${VIEWER_TOKEN}` };

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pullover-controller-'));
  dirs.push(dir);
  return dir;
}

/** The cluster of examples/controller.yaml (mysql1 the master, mysql2 a candidate, mysql3 no_master), as a plain document. */
export function clusterDoc(name = 'myservice', hostname = 'mysql-master.myservice.com', net = '200.200.200') {
  return {
    name,
    master_hostnames: [hostname],
    mysql: {
      port: 3306,
      user: 'pullover',
      // Relative: next to the config file, where writeSecrets puts them.
      password_file: 'mysql-password',
      replication_user: 'repl',
      replication_password_file: 'repl-password',
    },
    servers: [
      { name: 'mysql1', address: `${net}.1` },
      { name: 'mysql2', address: `${net}.2`, candidate: true },
      { name: 'mysql3', address: `${net}.3`, no_master: true },
    ],
  };
}

/**
 * For tests that start a real controller: its monitor then pings these servers, and a test sends
 * traffic only to this machine (nothing listens there: the controller finds itself cut off).
 */
export const LOOPBACK_CLUSTER = clusterDoc('myservice', 'mysql-master.myservice.com', '127.0.99');

export function configDoc(dir: string, clusters: unknown[] = [clusterDoc()]) {
  return {
    listen: '127.0.0.1:0',
    state_dir: join(dir, 'state'),
    auth: { agent_tokens_file: join(dir, 'agent-tokens'), admin_tokens_file: join(dir, 'admin-tokens') },
    clusters,
  };
}

export const MYSQL_PASSWORD = 'monitor-password';
export const REPLICATION_PASSWORD = 'replication-password';

/** A loaded config without files: tokens and passwords are given directly. */
export function testConfig(dir: string, doc: unknown = configDoc(dir)): LoadedConfig {
  const config = parseConfig(doc, join(dir, 'controller.yaml'));
  const mysql = Object.fromEntries(
    config.clusters.map((c) => [c.name, { password: MYSQL_PASSWORD, replication_password: REPLICATION_PASSWORD }]),
  );
  const agentTokens = { file: join(dir, 'agent-tokens'), lines: parseAgentTokens(AGENT_TOKENS_TEXT).lines };
  const secrets = { agent_tokens: agentTokens, admin_tokens: [ADMIN_TOKEN], viewer_tokens: [VIEWER_TOKEN], mysql };
  return { ...config, secrets };
}

/** Writes the token and MySQL password files next to the config that names them. */
export async function writeSecrets(dir: string): Promise<void> {
  await writeFile(join(dir, 'agent-tokens'), AGENT_TOKENS_TEXT, { mode: 0o600 });
  await writeFile(join(dir, 'admin-tokens'), `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'mysql-password'), `${MYSQL_PASSWORD}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'repl-password'), `${REPLICATION_PASSWORD}\n`, { mode: 0o600 });
}

export async function openTest(
  dir: string,
  options: { store?: Store; doc?: unknown; logger?: ControllerOptions['logger'] } = {},
) {
  return openController(testConfig(dir, options.doc ?? configDoc(dir)), {
    logger: options.logger ?? false,
    ...(options.store ? { store: options.store } : {}),
  });
}

export function report(applied: number, extra: Partial<AgentReport> = {}): AgentReport {
  return { ...reportReaching(applied), ...extra };
}

/** An agent's report at version `applied` that it reaches (or not) myservice's master at `address`. */
export function reportReaching(
  applied: number,
  reachable = true,
  checkedAt = new Date().toISOString(),
  address = '200.200.200.1',
): AgentReport {
  return {
    applied_version: applied,
    block_hash: 'a'.repeat(64),
    hosts_file: '/etc/hosts',
    masters: [
      {
        cluster: 'myservice',
        address,
        port: 3306,
        reachable,
        detail: reachable ? 'greeting from 10.11.6-MariaDB' : 'connect ECONNREFUSED',
        checked_at: checkedAt,
      },
    ],
    agent_version: '0.1.0',
  };
}

/** Collects fastify's JSON log lines, to assert the sentences an operator reads. */
export function logCapture(level = 'info') {
  const lines: { level: number; msg: string }[] = [];
  return {
    lines,
    messages: () => lines.map((l) => l.msg),
    logger: {
      level,
      stream: { write: (line: string) => void lines.push(JSON.parse(line)) },
    },
  };
}

/** Asserts that `text` holds each fragment, in this order: a sentence reads as written, not as a bag of words. */
export function expectInOrder(text: string, fragments: readonly string[]): void {
  let from = 0;
  for (const fragment of fragments) {
    const at = text.indexOf(fragment, from);
    expect(at, `"${fragment}" after position ${from} in: ${text}`).toBeGreaterThanOrEqual(0);
    from = at + fragment.length;
  }
}

/** A healthy GTID replica of `masterHost`:3306, both threads running, caught up; `change` alters it. */
export function replicaStatus(masterHost: string, change: Partial<ReplicaStatus> = {}): ReplicaStatus {
  return {
    masterHost,
    masterPort: 3306,
    io: 'yes',
    sqlRunning: true,
    sqlDelay: 0,
    applyBacklogBytes: 0,
    receivedGtid: '',
    lastIoErrno: 0,
    lastIoError: '',
    lastSqlErrno: 0,
    lastSqlError: '',
    secondsBehind: 0,
    usesGtid: true,
    receivedPosition: 'mysql-bin.000001:1000',
    ...change,
  };
}

/** When the tests' observations were made, unless a test says otherwise. */
export const OBSERVED_AT = new Date('2025-01-02T03:04:07.000Z');

export interface ObservationChange extends Omit<Partial<ServerObservation>, 'replica'> {
  /** The first three octets of the cluster's addresses (default 200.200.200); a server's last one is its name's last digit. */
  readonly net?: string;
  /** What it has executed and received (default 0-1-100). */
  readonly gtid?: string;
  /** Changes to its replication from the master at the net's .1; null: it replicates from nobody. */
  readonly replica?: Partial<ReplicaStatus> | null;
}

/** One look at a server: a reachable, read-only MariaDB replica of the net's .1, caught up, unless `change` says otherwise. */
export function observation(
  name: string,
  { net = '200.200.200', gtid = '0-1-100', replica, ...change }: ObservationChange = {},
): ServerObservation {
  return {
    name,
    address: `${net}.${name.slice(-1)}`,
    at: OBSERVED_AT,
    reachable: true,
    flavor: 'mariadb',
    readOnly: true,
    executedGtid: gtid,
    replica: replica === null ? null : replicaStatus(`${net}.1`, { receivedGtid: gtid, ...replica }),
    ...change,
  };
}

/** One look at a server that did not answer. */
export function unreachableObservation(
  name: string,
  failure?: ServerObservation['failure'],
  { net = '200.200.200', at = OBSERVED_AT }: { net?: string; at?: Date } = {},
): ServerObservation {
  return { name, address: `${net}.${name.slice(-1)}`, at, reachable: false, ...(failure ? { failure } : {}) };
}
