import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../src/index.js';
import { leaseTiming, leaseTimingProblem } from '../src/ha/timing.js';
import { clusterDoc, configDoc } from './helpers.js';

const FILE = '/etc/pullover/controller.yaml';

function parse(etcd: unknown, interval?: string) {
  const cluster = clusterDoc() as Record<string, unknown>;
  if (interval) cluster.monitor = { interval };
  return parseConfigText(JSON.stringify({ ...configDoc('/tmp', [cluster]), store: { etcd } }), FILE);
}

function problems(etcd: unknown, interval?: string): string[] {
  try {
    parse(etcd, interval);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('store.etcd in controller.yaml', () => {
  it('defaults: prefix /pullover/, a 10 s lease, a 3 s retry budget', () => {
    const config = parse({ endpoints: ['http://10.0.0.1:2379'] });
    expect(config.store?.etcd).toEqual({ endpoints: ['http://10.0.0.1:2379'], prefix: '/pullover/', lease_ttl: 10_000, retry_timeout: 3000 });
  });

  it('without it, the state dir alone, as before', () => {
    expect(parseConfigText(JSON.stringify(configDoc('/tmp')), FILE).store).toBeUndefined();
  });

  it('refuses a lease shorter than the monitor interval + 2 × retry_timeout + the margin, at start', () => {
    expect(problems({ endpoints: ['http://e:2379'], lease_ttl: '5s', retry_timeout: '2s' }, '1s')).toEqual([
      `${FILE}: store.etcd.lease_ttl: lease_ttl 5s is too short: it must cover the longest monitor.interval (1000 ms) + 2 × retry_timeout (2000 ms) + the safety margin (500 ms) = 5500 ms; raise lease_ttl or lower retry_timeout`,
    ]);
    expect(problems({ endpoints: ['http://e:2379'], lease_ttl: '6s', retry_timeout: '2s' }, '1s')).toEqual([]);
    expect(problems({ endpoints: ['http://e:2379'], lease_ttl: '10s' }, '5s')[0]).toMatch(/lease_ttl 10s is too short/);
  });

  it('names each bad key', () => {
    expect(problems({ endpoints: ['ftp://e', 'http://a:1', 'http://a:1/'], prefix: 'x', lease_ttl: '2500ms', cert_file: 'c' })).toEqual([
      `${FILE}: store.etcd.endpoints[0]: expected an http:// or https:// URL`,
      `${FILE}: store.etcd.prefix: expected a key prefix that starts and ends with "/"`,
      `${FILE}: store.etcd.endpoints[2]: endpoint http://a:1/ is already used at store.etcd.endpoints[1]`,
      `${FILE}: store.etcd.key_file: missing: cert_file and key_file go together`,
      `${FILE}: store.etcd.lease_ttl: lease_ttl must be whole seconds (etcd counts leases in seconds); got 2500 ms`,
    ]);
  });
});

describe('lease timing', () => {
  it('the margin is a tenth of the TTL, at least half a second; keepalives follow the monitor interval', () => {
    const timing = { ttlMs: 10_000, marginMs: 1000, keepaliveMs: 1000, retryTimeoutMs: 3000 };
    expect(leaseTiming(10_000, 3000, 1000)).toEqual(timing);
    expect(leaseTiming(3000, 500, 50)).toMatchObject({ marginMs: 500, keepaliveMs: 100 });
    expect(leaseTimingProblem(leaseTiming(1000, 100, 100))).toMatch(/at least 2s/);
  });
});
