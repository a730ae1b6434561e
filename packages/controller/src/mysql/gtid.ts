// GTID positions of both flavors, compared without a server. MariaDB keeps one "domain-server-seq"
// per replication domain; MySQL keeps sets of "uuid:interval" ranges. Both answer the one question
// the planner asks: does this server have every transaction that one has?

export type Flavor = 'mariadb' | 'mysql';

/** How `a` stands against `b`. `diverged`: each has something the other lacks (errant transactions). */
export type GtidOrder = 'equal' | 'ahead' | 'behind' | 'diverged';

type Intervals = [number, number][];

function mariadbSeqs(pos: string): Map<string, number> {
  const seqs = new Map<string, number>();
  for (const part of pos.split(',')) {
    const text = part.trim();
    if (text === '') continue;
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(text);
    if (!m) throw new Error(`not a MariaDB GTID position: "${pos}"`);
    seqs.set(m[1] as string, Math.max(seqs.get(m[1] as string) ?? 0, Number(m[3])));
  }
  return seqs;
}

function mysqlSets(set: string): Map<string, Intervals> {
  const sets = new Map<string, Intervals>();
  for (const part of set.replace(/\s+/g, '').split(',')) {
    if (part === '') continue;
    const [uuid, ...ranges] = part.split(':');
    if (!uuid || ranges.length === 0) throw new Error(`not a MySQL GTID set: "${set}"`);
    const list = sets.get(uuid.toLowerCase()) ?? [];
    for (const range of ranges) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(range);
      if (!m) throw new Error(`not a MySQL GTID set: "${set}"`);
      list.push([Number(m[1]), Number(m[2] ?? m[1])]);
    }
    sets.set(uuid.toLowerCase(), list);
  }
  return sets;
}

function covered(outer: Intervals, [start, end]: [number, number]): boolean {
  // Merge-free check: walk the sorted ranges, extending the covered prefix.
  let next = start;
  for (const [s, e] of [...outer].sort((x, y) => x[0] - y[0])) {
    if (s > next) break;
    if (e >= next) next = e + 1;
    if (next > end) return true;
  }
  return next > end;
}

function mysqlContains(a: Map<string, Intervals>, b: Map<string, Intervals>): boolean {
  for (const [uuid, ranges] of b) {
    const outer = a.get(uuid) ?? [];
    if (!ranges.every((r) => covered(outer, r))) return false;
  }
  return true;
}

function mariadbContains(a: Map<string, number>, b: Map<string, number>): boolean {
  for (const [domain, seq] of b) if ((a.get(domain) ?? 0) < seq) return false;
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

/** The transactions of `a` that `b` lacks, for messages ("0-1-105" or "uuid:7-9"); empty when none. */
export function gtidMissing(flavor: Flavor, a: string, b: string): string {
  if (flavor === 'mariadb') {
    const [x, y] = [mariadbSeqs(a), mariadbSeqs(b)];
    const parts: string[] = [];
    for (const [domain, seq] of x) {
      const have = y.get(domain) ?? 0;
      if (seq > have) parts.push(`domain ${domain} seq ${have + 1}..${seq}`);
    }
    return parts.join(', ');
  }
  const [x, y] = [mysqlSets(a), mysqlSets(b)];
  const parts: string[] = [];
  for (const [uuid, ranges] of x) {
    const missing = ranges.filter((r) => !covered(y.get(uuid) ?? [], r));
    if (missing.length > 0) parts.push(`${uuid}:${missing.map(([s, e]) => (s === e ? `${s}` : `${s}-${e}`)).join(':')}`);
  }
  return parts.join(',');
}
