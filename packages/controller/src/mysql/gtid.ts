// GTID positions of both flavors, compared without a server. MariaDB keeps one "domain-server-seq"
// per replication domain; MySQL keeps sets of "uuid:interval" ranges. Both answer the one question
// the planner asks: does this server have every transaction that one has?

export type Flavor = 'mariadb' | 'mysql';

/** How `a` stands against `b`. `diverged`: each has something the other lacks (errant transactions). */
export type GtidOrder = 'equal' | 'ahead' | 'behind' | 'diverged';

type Intervals = [number, number][];

/** A domain's last transaction: its seq and the server that wrote it. */
interface Last {
  readonly server: string;
  readonly seq: number;
}

/** One "domain-server-seq" of a MariaDB position or binlog state. */
interface MariadbGtid extends Last {
  readonly domain: string;
}

function mariadbGtids(pos: string): MariadbGtid[] {
  return pos.split(',').map((part) => part.trim()).filter((text) => text !== '').map((text) => {
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(text);
    if (!m) throw new Error(`not a MariaDB GTID position: "${pos}"`);
    return { domain: m[1] as string, server: m[2] as string, seq: Number(m[3]) };
  });
}

function mariadbSeqs(pos: string): Map<string, Last> {
  const seqs = new Map<string, Last>();
  for (const { domain, server, seq } of mariadbGtids(pos)) {
    if (seq > (seqs.get(domain)?.seq ?? 0)) seqs.set(domain, { server, seq });
  }
  return seqs;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function mysqlSets(set: string): Map<string, Intervals> {
  const sets = new Map<string, Intervals>();
  for (const part of set.replace(/\s+/g, '').split(',')) {
    if (part === '') continue;
    const [uuid, ...ranges] = part.split(':');
    if (!uuid || !UUID.test(uuid) || ranges.length === 0) throw new Error(`not a MySQL GTID set: "${set}"`);
    const list = sets.get(uuid.toLowerCase()) ?? [];
    for (const range of ranges) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(range);
      const [start, end] = [Number(m?.[1]), Number(m?.[2] ?? m?.[1])];
      // MySQL numbers transactions from 1 and rejects a backwards interval ("5-3") as well.
      if (!m || start < 1 || end < start) throw new Error(`not a MySQL GTID set: "${set}"`);
      list.push([start, end]);
    }
    sets.set(uuid.toLowerCase(), list);
  }
  for (const [uuid, list] of sets) sets.set(uuid, merged(list));
  return sets;
}

/** Sorted, overlapping and adjacent intervals joined: Executed_Gtid_Set and Retrieved_Gtid_Set overlap. */
function merged(list: Intervals): Intervals {
  const out: Intervals = [];
  for (const [s, e] of [...list].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** The parts of [start, end] that `outer` (merged) lacks. */
function uncovered(outer: Intervals, [start, end]: [number, number]): Intervals {
  // Walk the sorted ranges, collecting the gaps before each one.
  const gaps: Intervals = [];
  let next = start;
  for (const [s, e] of outer) {
    if (next > end) break;
    if (s > next) gaps.push([next, Math.min(s - 1, end)]);
    if (e >= next) next = e + 1;
  }
  if (next <= end) gaps.push([next, end]);
  return gaps;
}

function covered(outer: Intervals, range: [number, number]): boolean {
  return uncovered(outer, range).length === 0;
}

function mysqlContains(a: Map<string, Intervals>, b: Map<string, Intervals>): boolean {
  for (const [uuid, ranges] of b) {
    const outer = a.get(uuid) ?? [];
    if (!ranges.every((r) => covered(outer, r))) return false;
  }
  return true;
}

// Within a domain seq numbers only grow, so a later seq implies the earlier ones (what MASTER_GTID_WAIT
// assumes too). The same seq from two servers is two different transactions: alternate histories.
function mariadbHas(have: Last | undefined, want: Last): boolean {
  const seq = have?.seq ?? 0;
  return seq > want.seq || (seq === want.seq && have?.server === want.server);
}

function mariadbContains(a: Map<string, Last>, b: Map<string, Last>): boolean {
  for (const [domain, last] of b) if (!mariadbHas(a.get(domain), last)) return false;
  return true;
}

function order(aHasB: boolean, bHasA: boolean): GtidOrder {
  if (aHasB && bHasA) return 'equal';
  if (aHasB) return 'ahead';
  if (bHasA) return 'behind';
  return 'diverged';
}

/** Throws on a position that is not of the flavor's grammar: a guess here could lose transactions. */
export function compareGtid(flavor: Flavor, a: string, b: string): GtidOrder {
  if (flavor === 'mariadb') {
    const [x, y] = [mariadbSeqs(a), mariadbSeqs(b)];
    return order(mariadbContains(x, y), mariadbContains(y, x));
  }
  const [x, y] = [mysqlSets(a), mysqlSets(b)];
  return order(mysqlContains(x, y), mysqlContains(y, x));
}

/** True when `a` holds every transaction of `b`. */
export function gtidContains(flavor: Flavor, a: string, b: string): boolean {
  const o = compareGtid(flavor, a, b);
  return o === 'equal' || o === 'ahead';
}

/** The transactions of `a` that `b` lacks, for messages ("domain 0 seq 101..105" or "uuid:7-9"); empty when none. */
export function gtidMissing(flavor: Flavor, a: string, b: string): string {
  if (flavor === 'mariadb') {
    const [x, y] = [mariadbSeqs(a), mariadbSeqs(b)];
    const parts: string[] = [];
    for (const [domain, last] of x) {
      const other = y.get(domain);
      const have = other?.seq ?? 0;
      if (last.seq > have) parts.push(`domain ${domain} seq ${have + 1}..${last.seq}`);
      else if (!mariadbHas(other, last)) parts.push(`domain ${domain} seq ${last.seq} of server ${last.server}, not of server ${other?.server}`);
    }
    return parts.join(', ');
  }
  const [x, y] = [mysqlSets(a), mysqlSets(b)];
  const parts: string[] = [];
  for (const [uuid, ranges] of x) {
    const missing = ranges.flatMap((r) => uncovered(y.get(uuid) ?? [], r));
    if (missing.length > 0) parts.push(`${uuid}:${missing.map(([s, e]) => (s === e ? `${s}` : `${s}-${e}`)).join(':')}`);
  }
  return parts.join(',');
}

/** What a server says of the transactions it holds, as rejoin reads it (Dialect.holdings). */
export interface Holdings {
  /** gtid_current_pos on MariaDB, gtid_executed on MySQL. */
  readonly executed: string;
  /** MariaDB: gtid_binlog_state, the last seq of every (domain, server id) in its binlog; '' without one. */
  readonly binlogState?: string;
  /** MariaDB: gtid_slave_pos, the last GTID of each domain it applied as a replica. */
  readonly slavePos?: string;
  /** MariaDB: without log_bin, or without log_slave_updates, its binlog lacks what it replicated. */
  readonly logBin?: boolean;
  readonly logSlaveUpdates?: boolean;
}

export interface Errant {
  /** What the server holds and the master lacks ("domain 0 server 1 seq 51..54", "uuid:7-9"); '' when nothing. */
  readonly errant: string;
  /** Why the answer may be wrong, and which way: whose record is incomplete; '' when it is exact. */
  readonly caveat: string;
}

// The binlog lacks what was applied with log_slave_updates=OFF or before a RESET MASTER, but the
// positions still name the last GTID of each domain that was executed: every source counts.
function mariadbLasts(h: Holdings): Map<string, MariadbGtid> {
  const lasts = new Map<string, MariadbGtid>();
  for (const g of [h.binlogState, h.executed, h.slavePos].flatMap((pos) => mariadbGtids(pos ?? ''))) {
    const key = `${g.domain}-${g.server}`;
    if (g.seq > (lasts.get(key)?.seq ?? 0)) lasts.set(key, g);
  }
  return lasts;
}

/** Why a MariaDB server's binlog state does not list every (domain, server) it executed, or undefined. */
function incomplete(h: Holdings): string | undefined {
  if (h.logBin === false) return 'has no binary log (log_bin=OFF)';
  if (h.logSlaveUpdates === false) return 'has log_slave_updates=OFF (what it replicated is not in its binlog)';
  if (h.logBin && h.binlogState === '' && h.executed !== '') return 'has an empty binlog (RESET MASTER) although it executed transactions';
  return undefined;
}

/**
 * The transactions of `mine` that `master` lacks: on MariaDB per domain AND originating server, so
 * that a former master's unreplicated tail is seen even once the new master's seqs have passed it
 * (the last seq of a domain alone would call 0-1-54 contained in 0-2-69).
 */
export function errantTransactions(
  flavor: Flavor,
  mine: Holdings,
  master: Holdings,
  names: { readonly mine: string; readonly master: string },
): Errant {
  if (flavor === 'mysql') return { errant: gtidMissing('mysql', mine.executed, master.executed), caveat: '' };
  const theirs = mariadbLasts(master);
  const parts = [...mariadbLasts(mine).entries()]
    .sort(([, a], [, b]) => Number(a.domain) - Number(b.domain) || Number(a.server) - Number(b.server))
    .flatMap(([key, g]) => {
      const have = theirs.get(key)?.seq ?? 0;
      // Only each server's last seq is kept: its transactions lie within the range, others' may too.
      return g.seq > have ? [`domain ${g.domain} server ${g.server} seq ${have + 1}..${g.seq}`] : [];
    });
  const caveats: string[] = [];
  const gap = incomplete(mine);
  if (gap) caveats.push(`${names.mine} ${gap}: compared by what its binlog and GTID positions still show, so a transaction ${names.master} lacks may go unseen`);
  const theirGap = incomplete(master);
  if (parts.length > 0 && theirGap) caveats.push(`${names.master} ${theirGap}: a transaction it does hold may be listed`);
  return { errant: parts.join(', '), caveat: caveats.join('; ') };
}
