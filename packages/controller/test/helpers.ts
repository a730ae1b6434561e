import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentReport } from '@pullover/protocol';
import { afterEach } from 'vitest';
import {
  type ControllerOptions,
  type LoadedConfig,
  openController,
  parseConfig,
  type Store,
} from '../src/index.js';

export const AGENT_TOKEN = 'agent-token-0123456789abcdef';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const agentAuth = { authorization: `Bearer ${AGENT_TOKEN}` };
export const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };

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

/** The DESIGN's example cluster, as a plain document. */
export function clusterDoc(name = 'myservice', hostname = 'mysql-master.myservice.com', net = '200.200.200') {
  return {
    name,
    master_hostnames: [hostname],
    mysql: {
      port: 3306,
      user: 'pullover',
      password_file: '/etc/pullover/mysql-password',
      replication_user: 'repl',
      replication_password_file: '/etc/pullover/repl-password',
    },
    servers: [
      { name: 'mysql1', address: `${net}.1` },
      { name: 'mysql2', address: `${net}.2`, candidate: true },
      { name: 'mysql3', address: `${net}.3`, no_master: true },
    ],
  };
}

export function configDoc(dir: string, clusters: unknown[] = [clusterDoc()]) {
  return {
    listen: '127.0.0.1:0',
    state_dir: join(dir, 'state'),
    auth: { agent_tokens_file: join(dir, 'agent-tokens'), admin_tokens_file: join(dir, 'admin-tokens') },
    clusters,
  };
}

/** A loaded config without files: tokens are given directly. */
export function testConfig(dir: string, doc: unknown = configDoc(dir)): LoadedConfig {
  return {
    ...parseConfig(doc, join(dir, 'controller.yaml')),
    secrets: { agent_tokens: [AGENT_TOKEN], admin_tokens: [ADMIN_TOKEN] },
  };
}

/** Writes the token files next to the config that names them. */
export async function writeTokens(dir: string): Promise<void> {
  await writeFile(join(dir, 'agent-tokens'), `# agents\n${AGENT_TOKEN}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'admin-tokens'), `${ADMIN_TOKEN}\n`, { mode: 0o600 });
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
  return {
    applied_version: applied,
    block_hash: 'a'.repeat(64),
    hosts_file: '/etc/hosts',
    masters: [
      {
        cluster: 'myservice',
        address: '200.200.200.1',
        port: 3306,
        reachable: true,
        detail: 'greeting from 10.11.6-MariaDB',
        checked_at: new Date().toISOString(),
      },
    ],
    agent_version: '0.1.0',
    ...extra,
  };
}

/** Collects fastify's JSON log lines, to assert the sentences an operator reads. */
export function logCapture() {
  const lines: { level: number; msg: string }[] = [];
  return {
    lines,
    messages: () => lines.map((l) => l.msg),
    logger: {
      level: 'info',
      stream: { write: (line: string) => void lines.push(JSON.parse(line)) },
    },
  };
}
