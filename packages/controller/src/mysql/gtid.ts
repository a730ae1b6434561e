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

function mariadbSeqs(pos: string): Map<string, Last> {
  const seqs = new Map<string, Last>();
  for (const part of pos.split(',')) {
    const text = part.trim();
    if (text === '') continue;
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(text);
    if (!m) throw new Error(`not a MariaDB GTID position: "${pos}"`);
    const seq = Number(m[3]);
    if (seq > (seqs.get(m[1] as string)?.seq ?? 0)) seqs.set(m[1] as string, { server: m[2] as string, seq });
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
