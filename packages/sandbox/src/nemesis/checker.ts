// The judge of a nemesis run: a pure function of the recorded history, against the failover's
// invariants (no acknowledged write lost; never two servers taking writes; never left without a
// writable master while one could be had; survivors repointed; the README lists them). Nothing here
// reads a server or a clock.
import { twoWritableWindows } from '../sampler.js';
import type { FinalServer, RunHistory } from './history.js';

export type Invariant =
  | 'acknowledged-write-lost'
  | 'two-servers-acknowledged'
  | 'two-writable'
  | 'topology'
  | 'hosts'
  | 'history';

export interface Violation {
  invariant: Invariant;
  evidence: string;
}

export interface Verdict {
  violations: Violation[];
  /** What is allowed but worth saying (a fenced former master left out, a failed failover). */
  notes: string[];
  /** The one writable server at the end, if there is exactly one. */
  finalMaster: string | undefined;
  failedOver: boolean;
  /** From the loss of the master to the first sample with the new master the only writable server. */
  toOneWritableMs: number | undefined;
}

const SHOWN = 5;
/** The controller's monitor interval in the nemesis: it looks at every server once per interval. */
const RETURN_GRACE_MS = 1000;

export function check(history: RunHistory): Verdict {
  const violations: Violation[] = [];
  const notes: string[] = [];
  const add = (invariant: Invariant, evidence: string) => violations.push({ invariant, evidence });
  const since = sinceOf(history);

  const writable = history.final.servers.filter((s) => s.reachable && s.readOnly === false);
  const master = writable.length === 1 ? writable[0] : undefined;
  // "Never left without a writable master" allows one thing: a state a human fixes with one
  // command, named by the controller. A master back read_only with restart_recovery: manual is that (set-writable).
  const awaitsOperator = writable.length === 0 && history.restartRecovery === 'manual'
    && history.final.healthState === 'master-read-only';
  if (awaitsOperator) {
    notes.push(`no writable server: the master came back read_only and restart_recovery is manual; the controller says: ${history.final.health}`);
  } else if (!master) {
    const which = writable.length ? `: ${writable.map((s) => s.name).join(', ')}` : '';
    add('topology', `${writable.length} writable servers at the end${which}; the controller says: ${history.final.health ?? 'nothing'}`);
  }

  const lost = master && lostWrites(history, master, since);
  if (lost) add('acknowledged-write-lost', lost);
  for (const v of twoAcknowledging(history, since)) add('two-servers-acknowledged', v);
  for (const v of twoWritable(history, since, notes)) add('two-writable', v);
  if (master) {
    for (const v of topology(history, master, notes)) add('topology', v);
    for (const { agent, address } of history.final.hosts) {
      if (address !== addressOf(history, master.name)) {
        add('hosts', `${agent}'s hosts file maps the hostname to ${address ?? 'nothing'}, not to the master ${master.name} (${addressOf(history, master.name)})`);
      }
    }
  }
  for (const v of historyRecords(history, master?.name, notes)) add('history', v);

  const failedOver = master !== undefined && master.name !== history.initialMaster;
  return {
    violations,
    notes,
    finalMaster: master?.name,
    failedOver,
    toOneWritableMs: failedOver ? toOneWritable(history, master.name) : undefined,
  };
}

/** (1) Every acknowledged write is on the final master. */
function lostWrites(history: RunHistory, master: FinalServer, since: (at: number) => string): string | undefined {
  const present = new Set(master.rowIds);
  const lost = history.writes.filter((w) => w.outcome === 'ok' && !present.has(w.id));
  if (lost.length === 0) return undefined;
  const shown = lost.slice(0, SHOWN).map((w) => `${w.id} (acknowledged by ${nameOf(history, w.serverId)} at ${since(w.end)})`);
  return `${lost.length} acknowledged write(s) are not on the final master ${master.name}: ${shown.join(', ')}${lost.length > SHOWN ? ', …' : ''}`;
}

/**
 * (2) Never two servers taking writes: once a server has acknowledged a write, no other server may
 * acknowledge one that was sent after that moment, unless it was first. A write sent before and
 * acknowledged after (a frozen master that had committed and answers on SIGCONT) is not counted:
 * its commit may well have come first.
 */
function twoAcknowledging(history: RunHistory, since: (at: number) => string): string[] {
  const byServer = new Map<number, { firstAck: { id: number; end: number }; writes: RunHistory['writes'] }>();
  for (const w of history.writes) {
    if (w.outcome !== 'ok' || w.serverId === undefined) continue;
    const entry = byServer.get(w.serverId) ?? { firstAck: w, writes: [] };
    if (w.end < entry.firstAck.end) entry.firstAck = w;
    entry.writes.push(w);
    byServer.set(w.serverId, entry);
  }
  const found: string[] = [];
  const ordered = [...byServer.entries()].sort((a, b) => a[1].firstAck.end - b[1].firstAck.end);
  for (const [i, [earlier, first]] of ordered.entries()) {
    for (const [later, second] of ordered.slice(i + 1)) {
      const late = first.writes.filter((w) => w.start > second.firstAck.end);
      if (late.length === 0) continue;
      const w = late[0]!;
      found.push(
        `${nameOf(history, earlier)} acknowledged ${late.length} write(s) sent after ${nameOf(history, later)} had acknowledged write ${second.firstAck.id} at ${since(second.firstAck.end)}; `
        + `the first: write ${w.id} by ${w.writer}, sent ${since(w.start)}, acknowledged ${since(w.end)}`,
      );
    }
  }
  return found;
}

/**
 * (2) No two reachable servers writable at once. A server that comes back (thawed, link up) answers
 * as it was left, writable, until the controller reaches it: that is the one overlap allowed, for
 * one monitor interval, and said in a note; a write it takes meanwhile is caught above.
 */
function twoWritable(history: RunHistory, since: (at: number) => string, notes: string[]): string[] {
  // The last sample lasts until the run's end, which the last write's outcome marks.
  const end = [...history.samples.map((s) => s.at), ...history.writes.map((w) => w.end)]
    .reduce((a, b) => Math.max(a, b), 0);
  const found: string[] = [];
  for (const w of twoWritableWindows(history.samples, end)) {
    const what = `${w.writable.join(' and ')} both answered read_only=OFF at ${since(w.at)} for about ${w.ms} ms (${w.rounds} sample(s))`;
    if (w.back.length > 0 && w.ms <= RETURN_GRACE_MS) notes.push(`${what}: ${w.back.join(', ')} had just come back`);
    else found.push(what);
  }
  return found;
}

/** (3) Every other reachable server replicates from the master, healthy, holding nothing it lacks. */
function topology(history: RunHistory, master: FinalServer, notes: string[]): string[] {
  const found: string[] = [];
  const masterAddress = addressOf(history, master.name);
  if (master.replication && (master.replication.io === 'Yes' || master.replication.sql === 'Yes')) {
    found.push(`the writable ${master.name} replicates from ${master.replication.masterHost}`);
  }
  const onMaster = new Set(master.rowIds);
  const masterGtid = parseGtidState(master.gtidBinlogState);
  for (const s of history.final.servers) {
    if (s === master) continue;
    if (!s.reachable) {
      notes.push(`${s.name} did not answer at the end`);
      continue;
    }
    const r = s.replication;
    const fromMaster = r?.masterHost === masterAddress;
    if (history.final.fenced.includes(s.name) && s.readOnly && !(fromMaster && (r?.io === 'Yes' || r?.sql === 'Yes'))) {
      notes.push(`${s.name}: fenced former master, read-only, not rejoined`);
      continue;
    }
    if (!r) {
      found.push(`${s.name} replicates from nobody`);
      continue;
    }
    const problems = [
      fromMaster ? '' : `from ${r.masterHost}, not from ${master.name} (${masterAddress})`,
      r.io === 'Yes' ? '' : `IO thread ${r.io}`,
      r.sql === 'Yes' ? '' : `SQL thread ${r.sql}`,
      r.ioError ? `IO error: ${r.ioError}` : '',
      r.sqlError ? `SQL error: ${r.sqlError}` : '',
      s.caughtUp === false ? `did not reach ${master.name}'s GTID position in 10 s${r.sqlState ? ` (SQL thread: ${r.sqlState})` : ''}` : '',
    ].filter(Boolean);
    if (problems.length > 0) found.push(`${s.name} replicates ${problems.join('; ')}`);
    const errant = [...parseGtidState(s.gtidBinlogState)].filter(([key, seq]) => (masterGtid.get(key) ?? -1) < seq);
    if (errant.length > 0) {
      found.push(`${s.name} holds transactions ${master.name} lacks: ${errant.map(([key, seq]) => `${key}-${seq} (master has ${masterGtid.get(key) ?? 'none'})`).join(', ')}`);
    }
    const extra = s.rowIds.filter((id) => !onMaster.has(id));
    if (extra.length > 0) {
      found.push(`${s.name} has ${extra.length} row(s) ${master.name} lacks: ${extra.slice(0, SHOWN).join(', ')}${extra.length > SHOWN ? ', …' : ''}`);
    }
  }
  return found;
}

/** (5) The failover history tells what happened, and the controller names the same master. */
function historyRecords(history: RunHistory, master: string | undefined, notes: string[]): string[] {
  const found: string[] = [];
  const { failovers, controllerMaster } = history.final;
  for (const f of failovers) {
    if (f.outcome === 'running') found.push(`failover ${f.id} (${f.old_master} → ${f.new_master ?? '?'}) still running at the end`);
    if (f.outcome === 'failed') notes.push(`failover ${f.id} from ${f.old_master} failed: ${f.error ?? 'no reason given'}`);
  }
  if (!master) return found;
  const done = failovers.filter((f) => f.outcome === 'done');
  const last = done.at(-1);
  if (master !== history.initialMaster && last?.new_master !== master) {
    found.push(`${master} is the master, but ${last ? `the last failover recorded went to ${last.new_master}` : 'no failover is recorded'}`);
  }
  if (master === history.initialMaster && last) {
    found.push(`${master} is the master again, but the last failover recorded went to ${last.new_master}`);
  }
  if (controllerMaster !== master) found.push(`the controller names ${controllerMaster ?? 'no master'}, the writable server is ${master}`);
  return found;
}

function toOneWritable(history: RunHistory, master: string): number | undefined {
  const from = history.masterFaultAt;
  if (from === undefined) return undefined;
  const sample = history.samples.find((s) => s.at >= from && s.states[master] === 'rw'
    && Object.entries(s.states).every(([name, state]) => name === master || state !== 'rw'));
  return sample ? sample.at - from : undefined;
}

/** "0-1-100,0-2-5" → {"0-1" → 100, "0-2" → 5}: MariaDB's last GTID per domain and originating server. */
export function parseGtidState(state: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const gtid of state.split(',').map((g) => g.trim()).filter(Boolean)) {
    const [domain, server, seq] = gtid.split('-');
    out.set(`${domain}-${server}`, Number(seq));
  }
  return out;
}

function sinceOf(history: RunHistory): (at: number) => string {
  const origin = history.masterFaultAt ?? history.writes[0]?.start ?? 0;
  const what = history.masterFaultAt === undefined ? 'the first write' : 'the fault';
  return (at) => `${at >= origin ? '+' : '-'}${Math.abs(Math.round(at - origin))} ms from ${what}`;
}

function nameOf(history: RunHistory, serverId: number | undefined): string {
  return history.servers.find((s) => s.serverId === serverId)?.name ?? `server_id ${serverId}`;
}

function addressOf(history: RunHistory, name: string): string {
  return history.servers.find((s) => s.name === name)?.address ?? '?';
}
