import { formatPath } from '@pullover/protocol';
import type { z } from 'zod';
import { leaseTiming, leaseTimingProblem } from '../ha/timing.js';

// Cross-field rules of controller.yaml. They run even when other fields failed validation (so that
// one run reports every problem), hence every read below treats the value as untrusted.

type Ctx = z.RefinementCtx;
type Path = (string | number)[];

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function list(value: unknown, key: string): unknown[] {
  const items = field(value, key);
  return Array.isArray(items) ? items : [];
}

function text(value: unknown, key: string): string | undefined {
  const item = field(value, key);
  return typeof item === 'string' ? item : undefined;
}

/** Reports the second and later occurrences of a value, pointing at the first. */
class Unique {
  private readonly seen = new Map<string, Path>();

  constructor(
    private readonly ctx: Ctx,
    private readonly what: string,
  ) {}

  check(key: string | undefined, path: Path, shown = key): void {
    if (key === undefined) return;
    const first = this.seen.get(key);
    if (first) {
      this.ctx.addIssue({
        code: 'custom',
        path,
        message: `${this.what} ${shown} is already used at ${formatPath(first)}`,
      });
    } else {
      this.seen.set(key, path);
    }
  }
}

export function checkCrossFieldRules(config: unknown, ctx: Ctx): void {
  const clusterNames = new Unique(ctx, 'cluster name');
  // A hostname mapped by two clusters would make the agents' hosts block ambiguous.
  const hostnames = new Unique(ctx, 'hostname');
  for (const [ci, cluster] of list(config, 'clusters').entries()) {
    clusterNames.check(text(cluster, 'name'), ['clusters', ci, 'name']);
    for (const [hi, hostname] of list(cluster, 'master_hostnames').entries()) {
      if (typeof hostname === 'string') {
        hostnames.check(hostname.toLowerCase(), ['clusters', ci, 'master_hostnames', hi], hostname);
      }
    }
    checkServers(cluster, ci, ctx);
  }
  checkEtcd(config, ctx);
}

/** The lease must outlast the slowest cluster's monitor interval plus two full retry budgets (ha/timing.ts). */
function checkEtcd(config: unknown, ctx: Ctx): void {
  const etcd = field(field(config, 'store'), 'etcd');
  if (etcd === undefined) return;
  const endpoints = new Unique(ctx, 'endpoint');
  for (const [i, url] of list(etcd, 'endpoints').entries()) {
    if (typeof url === 'string') endpoints.check(url.replace(/\/+$/, ''), ['store', 'etcd', 'endpoints', i], url);
  }
  if ((field(etcd, 'cert_file') === undefined) !== (field(etcd, 'key_file') === undefined)) {
    const missing = field(etcd, 'cert_file') === undefined ? 'cert_file' : 'key_file';
    ctx.addIssue({ code: 'custom', path: ['store', 'etcd', missing], message: 'missing: cert_file and key_file go together' });
  }
  const ttl = field(etcd, 'lease_ttl');
  const retry = field(etcd, 'retry_timeout');
  if (typeof ttl !== 'number' || typeof retry !== 'number') return;
  const intervals = list(config, 'clusters').map((c) => field(field(c, 'monitor'), 'interval'));
  const interval = Math.max(0, ...intervals.filter((i): i is number => typeof i === 'number'));
  const problem = leaseTimingProblem(leaseTiming(ttl, retry, interval));
  if (problem) ctx.addIssue({ code: 'custom', path: ['store', 'etcd', 'lease_ttl'], message: problem });
}

function checkServers(cluster: unknown, ci: number, ctx: Ctx): void {
  const servers = list(cluster, 'servers');
  const names = new Unique(ctx, 'server name');
  // Two servers on one address would be one MySQL instance seen twice: a failover to "the other" is a no-op.
  const addresses = new Unique(ctx, 'address');
  for (const [si, server] of servers.entries()) {
    names.check(text(server, 'name'), ['clusters', ci, 'servers', si, 'name']);
    addresses.check(text(server, 'address')?.toLowerCase(), ['clusters', ci, 'servers', si, 'address']);
  }

  const path: Path = ['clusters', ci, 'master'];
  const master = field(cluster, 'master');
  const known = [...new Set(servers.map((s) => text(s, 'name')).filter((n) => n !== undefined))];
  if (typeof master === 'string') {
    const server = servers.find((s) => text(s, 'name') === master);
    if (server === undefined) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${master} is not one of this cluster's servers (${known.join(', ') || 'none'})`,
      });
    } else if (field(server, 'no_master') === true) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${master} is marked no_master, so it cannot be the master`,
      });
    }
  } else if (master === undefined && field(servers[0], 'no_master') === true) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `missing: without it the first server (${text(servers[0], 'name')}) would be the master, but it is marked no_master; name the current master here`,
    });
  }
}
