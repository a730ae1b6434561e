import type { AgentReport, MasterReachability } from '@pullover/protocol';
import { TooManyAgents } from '../errors.js';
import type { LogLine } from '../log-line.js';

export interface AgentRecord {
  readonly name: string;
  readonly report: AgentReport;
  readonly remote_address: string;
  readonly received_at: Date;
  /**
   * When the report carrying `report.masters` arrived, on the controller's clock: an agent probes
   * just before it reports, and its own clock may be off by any amount (a veto dropped or kept by skew).
   */
  readonly masters_received_at: Date;
  /**
   * Its last report came with its own token (a `NAME TOKEN` line). An unbound agent (a bare-token
   * line) may be anyone holding that token: it shows in status but never vetoes a failover.
   */
  readonly bound: boolean;
  /**
   * The controller that heard it, when another one did (several controllers on etcd): such a
   * record is shown and counted here, but neither logged nor shared again by this controller.
   */
  readonly via?: string;
}

/** Agent names are chosen by agents; a bound keeps a buggy or hostile fleet from exhausting memory. */
export const MAX_AGENTS = 100_000;

/** Agents heard from within this long count as live: a failover waits for them, and so does the detector. */
export const AGENT_LIVE_MS = 5 * 60_000;

/** The last report of every agent since start, in memory: it answers "have all app servers switched?". */
export class AgentRegistry {
  readonly #agents = new Map<string, AgentRecord>();
  readonly #absorbed = new Set<(record: AgentRecord) => void>();
  #reports = 0;
  #changes = 0;
  #sightingChanges = 0;

  get size(): number {
    return this.#agents.size;
  }

  /** Counts every record stored (reported, acknowledged or absorbed): what is derived from the fleet is kept while it holds still. */
  get changes(): number {
    return this.#changes;
  }

  /**
   * Counts the records stored that may change what the agents say of their masters (sightings.ts):
   * a new or revived agent, another binding, other probes. An acknowledgement changes none of it:
   * during a rollout, 10,000 of them leave the monitor's sightings as they were.
   */
  get sightingChanges(): number {
    return this.#sightingChanges;
  }

  /** Reports accepted since start. */
  get reportsReceived(): number {
    return this.#reports;
  }

  get(name: string): AgentRecord | undefined {
    return this.#agents.get(name);
  }

  /** Agents heard from since `now - AGENT_LIVE_MS`, in no order (a publish asks it of 10,000 agents). */
  live(now: Date): AgentRecord[] {
    const since = now.getTime() - AGENT_LIVE_MS;
    const live: AgentRecord[] = [];
    for (const a of this.#agents.values()) if (a.received_at.getTime() >= since) live.push(a);
    return live;
  }

  /** Every agent, in no order: for counting and searching each monitor round without sorting 10,000 names. */
  records(): IterableIterator<AgentRecord> {
    return this.#agents.values();
  }

  /** Every agent, sorted by name. */
  all(): AgentRecord[] {
    return [...this.#agents.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * A long-poll's acknowledgement: the agent's file holds `appliedVersion` with this block. Keeps
   * the rest of its last report (reachability comes with full reports only).
   */
  acknowledge(
    name: string,
    appliedVersion: number,
    blockHash: string,
    remoteAddress: string,
    receivedAt = new Date(),
    bound = false,
  ): LogLine[] {
    const previous = this.#agents.get(name)?.report;
    const report: AgentReport = previous
      ? { ...previous, applied_version: appliedVersion, block_hash: blockHash }
      : {
          applied_version: appliedVersion,
          block_hash: blockHash,
          hosts_file: '',
          masters: [],
          agent_version: '',
        };
    return this.record(name, report, remoteAddress, receivedAt, bound);
  }

  /**
   * Stores the report; returns a sentence for each thing that changed since the agent's last one.
   * `bound`: it came with the agent's own token; unbound unless said (it never vetoes a failover).
   */
  record(name: string, report: AgentReport, remoteAddress: string, receivedAt = new Date(), bound = false): LogLine[] {
    const previous = this.#agents.get(name);
    if (!previous && this.#agents.size >= MAX_AGENTS) throw new TooManyAgents(MAX_AGENTS);
    // An acknowledgement carries no new probe: the reachability keeps the time it was reported.
    const mastersAt = report.masters === previous?.report.masters ? previous.masters_received_at : receivedAt;
    const record = {
      name,
      report,
      remote_address: remoteAddress,
      received_at: receivedAt,
      masters_received_at: mastersAt,
      bound,
    };
    this.#agents.set(name, record);
    this.#reports++;
    this.#changed(previous, record);
    return describeReport(name, previous?.report, report, remoteAddress);
  }

  /**
   * Records another controller heard (each with its `via`): an agent's newest record wins, by
   * `received_at`, whoever heard it. No sentence: the controller that heard the agent said it.
   * Returns how many were taken; a name past MAX_AGENTS is left out, as record() would refuse it.
   */
  absorb(records: Iterable<AgentRecord>): number {
    let taken = 0;
    for (const record of records) {
      const known = this.#agents.get(record.name);
      const stale = known !== undefined && known.received_at.getTime() >= record.received_at.getTime();
      if (stale || (!known && this.#agents.size >= MAX_AGENTS)) continue;
      this.#agents.set(record.name, record);
      this.#changed(known, record);
      taken++;
      for (const listener of this.#absorbed) listener(record);
    }
    return taken;
  }

  #changed(previous: AgentRecord | undefined, record: AgentRecord): void {
    this.#changes++;
    if (!previous || !sameSightings(previous, record)) this.#sightingChanges++;
  }

  /** Calls `listener` with each record absorb() takes, until the returned function is called. */
  onAbsorbed(listener: (record: AgentRecord) => void): () => void {
    this.#absorbed.add(listener);
    return () => this.#absorbed.delete(listener);
  }
}

/** The same probes, binding and liveness: `record` says what `previous` said of the agent's masters. */
function sameSightings(previous: AgentRecord, record: AgentRecord): boolean {
  // An agent silent long enough to have left the live ones comes back with this record.
  if (previous.received_at.getTime() < record.received_at.getTime() - AGENT_LIVE_MS) return false;
  if (previous.bound !== record.bound) return false;
  if (previous.masters_received_at.getTime() !== record.masters_received_at.getTime()) return false;
  const [a, b] = [previous.report.masters, record.report.masters];
  if (a === b) return true;
  return a.length === b.length && a.every((m, i) => {
    const n = b[i];
    if (n === undefined) return false;
    return m.cluster === n.cluster && m.address === n.address && m.reachable === n.reachable && m.detail === n.detail;
  });
}

function describeReport(
  name: string,
  before: AgentReport | undefined,
  after: AgentReport,
  remote: string,
): LogLine[] {
  const lines: LogLine[] = [];
  if (!before) {
    lines.push({
      level: 'info',
      message: `agent ${name} reports from ${remote}, applied version ${after.applied_version}`,
      agent: { name, about: 'reported for the first time' },
    });
  } else if (before.applied_version !== after.applied_version) {
    const about = `applied version ${after.applied_version}`;
    lines.push({ level: 'info', message: `agent ${name} ${about}`, agent: { name, about, applied: after.applied_version } });
  }
  if (after.error !== undefined && after.error !== before?.error) {
    lines.push({
      level: 'warn',
      message: `agent ${name} cannot maintain ${after.hosts_file}: ${after.error}`,
      agent: { name, about: 'cannot maintain their hosts file' },
    });
  } else if (after.error === undefined && before?.error !== undefined) {
    lines.push({
      level: 'info',
      message: `agent ${name} maintains ${after.hosts_file} again`,
      agent: { name, about: 'maintain their hosts file again' },
    });
  }
  for (const master of after.masters) {
    const was = before?.masters.find((m) => m.cluster === master.cluster && m.address === master.address);
    if (master.reachable === (was?.reachable ?? true)) continue;
    const where = `${master.cluster}'s master at ${at(master)}`;
    lines.push(
      master.reachable
        ? { level: 'info', message: `agent ${name} reaches ${where} again`, agent: { name, about: `reach ${where} again` } }
        : {
            level: 'warn',
            message: `agent ${name} cannot reach ${where}: ${master.detail}`,
            agent: { name, about: `cannot reach ${where}` },
          },
    );
  }
  return lines;
}

function at(master: MasterReachability): string {
  return master.address.includes(':')
    ? `[${master.address}]:${master.port}`
    : `${master.address}:${master.port}`;
}
