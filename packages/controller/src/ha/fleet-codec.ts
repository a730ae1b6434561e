// How the controllers on one etcd share the agents each one hears (see fleet-share.ts): the keys,
// the compact encoding of a chunk of agent records, and which changes are worth a write.
import type { AgentReport, MasterReachability } from '@pullover/protocol';
import type { AgentRecord } from '../agents/registry.js';

/**
 * Chunks per controller. An agent's chunk is fixed by its name, so one report rewrites ~1/128 of
 * what a controller heard: 10,000 agents on one controller are ~1 MB, ~8 KB a chunk (far below
 * etcd's 1.5 MiB request limit), and a rewrite of everything is two transactions of at most 100 puts.
 */
export const FLEET_CHUNKS = 128;
/** etcd refuses a transaction of more operations than its --max-txn-ops (default 128). */
export const MAX_TXN_OPS = 100;
/** Bytes of keys and values per transaction: well below etcd's 1.5 MiB, so that a write stays short. */
export const MAX_TXN_BYTES = 512 * 1024;
/** A chunk larger than this is not written (a pathological fleet: reports with hundreds of masters). */
export const MAX_CHUNK_BYTES = 1024 * 1024;

const FORMAT = 1;

export const fleetKeys = (prefix: string) => ({
  /** Every key of the share: one watch follows them all. */
  root: `${prefix}fleet/`,
  ask: `${prefix}fleet/ask`,
  agents: `${prefix}fleet/agents/`,
  chunk: (controller: string, chunk: number) => `${prefix}fleet/agents/${controller}/${chunk}`,
});

/** The controller and chunk of a key under `agents`, or undefined for any other key. */
export function chunkOfKey(agentsPrefix: string, key: string): { controller: string; chunk: number } | undefined {
  if (!key.startsWith(agentsPrefix)) return undefined;
  const rest = key.slice(agentsPrefix.length);
  const slash = rest.lastIndexOf('/');
  const chunk = Number(rest.slice(slash + 1));
  if (slash <= 0 || !Number.isInteger(chunk) || chunk < 0) return undefined;
  return { controller: rest.slice(0, slash), chunk };
}

/** FNV-1a of the name: the same chunk for the same agent on every controller and every run. */
export function chunkOf(name: string, chunks = FLEET_CHUNKS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % chunks;
}

// One agent as a tuple, fields in this order; `error` only when there is one. received_at in ms
// since the epoch, masters_received_at as ms before it (usually 0), booleans as 0/1. The texts
// most agents share (block hash, hosts file, agent version, master, probe detail) are indices
// into the chunk's table of texts: that halves a chunk (~240 bytes an agent without).
type MasterTuple = [
  cluster: number, address: number, port: number, reachable: 0 | 1, detail: number, checkedAt: string,
];
type AgentTuple = [
  name: string, applied: number, hash: number, received: number, mastersAgo: number, bound: 0 | 1,
  remote: string, hostsFile: number, agentVersion: number, masters: MasterTuple[], error?: string,
];

/** A chunk's value: the records heard by one controller whose names fall in that chunk. */
export function encodeChunk(records: Iterable<AgentRecord>): string {
  const texts: string[] = [];
  const index = new Map<string, number>();
  const t = (text: string): number => {
    let i = index.get(text);
    if (i === undefined) index.set(text, (i = texts.push(text) - 1));
    return i;
  };
  const agents: AgentTuple[] = [];
  for (const r of records) {
    const { report } = r;
    const received = r.received_at.getTime();
    const masters = report.masters.map(
      (m): MasterTuple => [t(m.cluster), t(m.address), m.port, m.reachable ? 1 : 0, t(m.detail), m.checked_at],
    );
    const mastersAgo = received - r.masters_received_at.getTime();
    const tuple: AgentTuple = [
      r.name, report.applied_version, t(report.block_hash), received, mastersAgo, r.bound ? 1 : 0,
      r.remote_address, t(report.hosts_file), t(report.agent_version), masters,
    ];
    if (report.error !== undefined) tuple.push(report.error);
    agents.push(tuple);
  }
  return JSON.stringify({ f: FORMAT, t: texts, a: agents });
}

/**
 * The records of a chunk, each marked `via` the controller that wrote it; or why it cannot be read.
 * `wanted(name, receivedMs)` leaves out a record before it is built (one no newer than what the
 * reader holds): a rewritten chunk brings back mostly the same records.
 */
export function decodeChunk(
  text: string,
  via: string,
  wanted: (name: string, receivedMs: number) => boolean = () => true,
): { records: AgentRecord[] } | { problem: string } {
  let parsed: { f?: unknown; t?: unknown; a?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return { problem: 'not JSON' };
  }
  if (parsed.f !== FORMAT) {
    return { problem: `format ${String(parsed.f)}, this controller reads ${FORMAT} (run one version everywhere)` };
  }
  const { t: texts, a: agents } = parsed;
  if (!Array.isArray(agents) || !Array.isArray(texts) || !texts.every((s) => typeof s === 'string')) {
    return { problem: 'no agent list or text table' };
  }
  const records: AgentRecord[] = [];
  for (const tuple of agents as unknown[]) {
    if (Array.isArray(tuple) && typeof tuple[0] === 'string' && typeof tuple[3] === 'number' && !wanted(tuple[0], tuple[3])) {
      continue;
    }
    const record = recordOf(tuple, texts as string[], via);
    if (!record) return { problem: `a malformed agent record: ${JSON.stringify(tuple).slice(0, 200)}` };
    records.push(record);
  }
  return { records };
}

function recordOf(tuple: unknown, texts: readonly string[], via: string): AgentRecord | undefined {
  if (!Array.isArray(tuple) || tuple.length < 10 || tuple.length > 11) return undefined;
  const [name, applied, hash, received, mastersAgo, bound, remote, hostsFile, agentVersion, masters, error] =
    tuple as unknown[];
  const [blockHash, file, version] = [hash, hostsFile, agentVersion].map((i) => textAt(texts, i));
  if (typeof name !== 'string' || typeof remote !== 'string' || !Array.isArray(masters)) return undefined;
  if (blockHash === undefined || file === undefined || version === undefined) return undefined;
  // mastersAgo may be negative: a probe time taken over from another controller whose clock is ahead.
  if (!isCount(applied) || !isCount(received) || !Number.isSafeInteger(mastersAgo) || (bound !== 0 && bound !== 1)) {
    return undefined;
  }
  if (error !== undefined && typeof error !== 'string') return undefined;
  const reachability: MasterReachability[] = [];
  for (const m of masters as unknown[]) {
    const master = masterOf(m, texts);
    if (!master) return undefined;
    reachability.push(master);
  }
  const report: AgentReport = {
    applied_version: applied,
    block_hash: blockHash,
    hosts_file: file,
    masters: reachability,
    agent_version: version,
    ...(error !== undefined ? { error } : {}),
  };
  return {
    name,
    report,
    remote_address: remote,
    received_at: new Date(received),
    masters_received_at: new Date(received - (mastersAgo as number)),
    bound: bound === 1,
    via,
  };
}

function masterOf(tuple: unknown, texts: readonly string[]): MasterReachability | undefined {
  if (!Array.isArray(tuple) || tuple.length !== 6) return undefined;
  const [c, a, port, reachable, d, checkedAt] = tuple as unknown[];
  const [cluster, address, detail] = [c, a, d].map((i) => textAt(texts, i));
  if (cluster === undefined || address === undefined || detail === undefined || typeof checkedAt !== 'string') return undefined;
  if (!isCount(port) || (reachable !== 0 && reachable !== 1)) return undefined;
  return { cluster, address, port, reachable: reachable === 1, detail, checked_at: checkedAt };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function textAt(texts: readonly string[], index: unknown): string | undefined {
  return Number.isInteger(index) ? texts[index as number] : undefined;
}

/**
 * What changed since `sent` (the record last written): `news` (a new agent, a version applied, a
 * master lost or found, a hosts-file error…, written at the next flush) or only `freshness` (the
 * same facts heard again: received_at and the probes' times, written when the chunk is old or the
 * leader asked the agents — 10,000 agents re-report every hold, and rewriting them all twice a
 * second would load etcd with megabytes of history).
 */
export function changeOf(sent: AgentRecord | undefined, record: AgentRecord): 'news' | 'freshness' | undefined {
  if (sent === record) return undefined;
  if (!sent) return 'news';
  if (!sameFacts(sent, record) || !sameApplied(sent, record)) return 'news';
  const fresh = sent.received_at.getTime() === record.received_at.getTime()
    && sent.masters_received_at.getTime() === record.masters_received_at.getTime();
  return fresh ? undefined : 'freshness';
}

/**
 * The news since `sent` is only a version applied (an acknowledgement, or a report saying no more):
 * during a rollout every agent's record changes so, and a few seconds' delay costs nobody a decision.
 */
export function onlyApplied(sent: AgentRecord | undefined, record: AgentRecord): boolean {
  return sent !== undefined && sent !== record && sameFacts(sent, record) && !sameApplied(sent, record);
}

function sameApplied(a: AgentRecord, b: AgentRecord): boolean {
  return a.report.applied_version === b.report.applied_version && a.report.block_hash === b.report.block_hash;
}

/** Everything but the version applied and the times heard. */
function sameFacts(sent: AgentRecord, record: AgentRecord): boolean {
  const [a, b] = [sent.report, record.report];
  return a.hosts_file === b.hosts_file
    && a.error === b.error
    && a.agent_version === b.agent_version
    && sent.bound === record.bound
    && sent.remote_address === record.remote_address
    && a.masters.length === b.masters.length
    && a.masters.every((m, i) => sameMaster(m, b.masters[i]));
}

function sameMaster(m: MasterReachability, n: MasterReachability | undefined): boolean {
  if (n === undefined) return false;
  return m.cluster === n.cluster && m.address === n.address && m.port === n.port && m.reachable === n.reachable;
}

export interface Put {
  readonly key: string;
  readonly value: string;
}

/** Puts grouped into transactions of at most MAX_TXN_OPS operations and MAX_TXN_BYTES bytes (one put may fill one alone). */
export function batches(puts: readonly Put[], maxOps = MAX_TXN_OPS, maxBytes = MAX_TXN_BYTES): Put[][] {
  const out: Put[][] = [];
  let current: Put[] = [];
  let bytes = 0;
  for (const put of puts) {
    const size = Buffer.byteLength(put.key) + Buffer.byteLength(put.value);
    if (current.length > 0 && (current.length >= maxOps || bytes + size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(put);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The leader's request that every controller ends its parked polls: each one fires once per new value. */
export interface Ask {
  readonly by: string;
  readonly cluster: string;
  readonly master: string;
  readonly at: string;
}

export function askOf(text: string): Ask | undefined {
  try {
    const ask = JSON.parse(text) as Partial<Ask>;
    const fields = [ask.by, ask.cluster, ask.master, ask.at];
    return fields.every((f) => typeof f === 'string') ? (ask as Ask) : undefined;
  } catch {
    return undefined;
  }
}
