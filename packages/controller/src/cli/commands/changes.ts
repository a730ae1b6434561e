// The commands that change what a running controller does: each takes an admin token.
import type { SwitchoverRequest } from '@pullover/protocol';
import { pauseSeconds, secondsOption } from '../durations.js';
import { formatFailover, formatSwitchover } from '../history-table.js';
import { withProgress } from '../progress.js';
import { CLUSTER, REASON, remote } from '../spec.js';

const SERVER = { count: 'one', arg: 'NAME', what: 'server' } as const;

export const FAILOVER = remote({
  summary: 'fail over a dead master now (ignores the post-failover block)',
  options: {
    ...CLUSTER,
    to: { type: 'string', arg: 'NAME', help: 'promote this replica (default: the best candidate)' },
    ...REASON,
    force: { type: 'boolean', help: 'go on although fence_command failed: you vouch the old master is down' },
  },
  examples: ['failover --cluster myservice --to mysql2 --config /etc/pullover/controller.yaml'],
  build: (values) => ({ cluster: values.cluster, to: values.to, reason: values.reason, force: values.force }),
  call: async (client, { cluster, to, reason, force }, io) => {
    io.err(`${cluster}: failing over${to ? ` onto ${to}` : ''}; this takes a few seconds…`);
    const record = await withProgress(client, cluster, io.err, () =>
      client.failover(cluster, {
        ...(to !== undefined ? { to } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...(force ? { force: true } : {}),
      }),
    );
    io.out(formatFailover(record));
    return record.outcome === 'done' ? 0 : 1;
  },
});

export const SWITCHOVER = remote({
  summary: 'move a live master: writes blocked well under a second, nothing lost',
  options: {
    ...CLUSTER,
    'to': { type: 'string', arg: 'NAME', help: 'the new master (default: the best candidate)' },
    'max-lag': { type: 'string', arg: 'S', help: 'refuse above S seconds of replica lag (default 5; or 500ms, 2s…)' },
    'timeout': {
      type: 'string',
      arg: 'S',
      help: 'how long the new master may take to catch up before the switchover is rolled back (default 5 s)',
    },
    'dry-run': { type: 'boolean', help: 'check and plan only; change nothing' },
    ...REASON,
  },
  examples: ['switchover --cluster myservice --to mysql2 --dry-run --config /etc/pullover/controller.yaml'],
  build: (values) => {
    const request: SwitchoverRequest = {
      ...(values.to !== undefined ? { to: values.to } : {}),
      ...(values['max-lag'] !== undefined ? { max_lag_s: secondsOption('--max-lag', values['max-lag']) } : {}),
      ...(values.timeout !== undefined ? { catchup_timeout_s: secondsOption('--timeout', values.timeout) } : {}),
      ...(values['dry-run'] ? { dry_run: true } : {}),
      ...(values.reason !== undefined ? { reason: values.reason } : {}),
    };
    return { cluster: values.cluster, request };
  },
  call: async (client, { cluster, request }, io) => {
    io.err(`${cluster}: ${request.dry_run ? 'checking a switchover' : 'switching over; writes are blocked for a moment'}…`);
    const r = await withProgress(client, cluster, io.err, () => client.switchover(cluster, request));
    io.out(formatSwitchover(r));
    return r.outcome === 'rolled-back' ? 1 : 0;
  },
});

export const REJOIN = remote({
  summary: 'a former master becomes a replica, unless it has errant transactions',
  options: CLUSTER,
  positionals: SERVER,
  examples: ['rejoin --cluster myservice mysql1 --config /etc/pullover/controller.yaml'],
  build: (values, [server]) => ({ cluster: values.cluster, server: server as string }),
  call: async (client, { cluster, server }, io) => {
    const r = await client.rejoin(cluster, server);
    io.out(`${r.cluster}: ${r.outcome === 'rejoined' ? 'rejoined' : 'REFUSED'}: ${r.detail}`);
    return r.outcome === 'rejoined' ? 0 : 1;
  },
});

export const SET_WRITABLE = remote({
  summary: 'the master came back read_only (restarted): make it take writes, once every replica answers '
    + 'and holds nothing it lacks',
  options: CLUSTER,
  examples: ['set-writable --cluster myservice --config /etc/pullover/controller.yaml'],
  build: (values) => ({ cluster: values.cluster }),
  call: async (client, { cluster }, io) => {
    const r = await client.setWritable(cluster);
    const said = { 'writable': 'made writable', 'already-writable': 'already writable', 'refused': 'REFUSED' }[r.outcome];
    io.out(`${r.cluster}: ${r.master} ${said}: ${r.checks.join('; ')}`);
    return r.outcome === 'refused' ? 1 : 0;
  },
});

export const SET_HEARTBEAT = remote({
  summary: 'replicas pointed by hand (MariaDB\'s default: a heartbeat every 30 s) get monitor.replica_heartbeat, '
    + 'so a hung master is confirmed by their silence in seconds; each restarts its replication once',
  options: CLUSTER,
  examples: ['set-heartbeat --cluster myservice --config /etc/pullover/controller.yaml'],
  build: (values) => ({ cluster: values.cluster }),
  call: async (client, { cluster }, io) => {
    const r = await client.setReplicaHeartbeat(cluster);
    const lines = r.replicas.map((x) => `  ${x.outcome.padEnd(7)} ${x.detail}`);
    io.out([`${r.cluster}: replicas of ${r.master}, a heartbeat every ${r.heartbeat_s} s:`, ...lines].join('\n'));
    return r.replicas.some((x) => x.outcome === 'failed') ? 1 : 0;
  },
});

/** What ack and resume did: `was` is when the block or pause would have ended, null when there was none. */
function rearmed(cluster: string, what: 'block' | 'pause', was: string | null): string {
  return was
    ? `${cluster}: automatic failover armed again (the ${what} would have lasted until ${was})`
    : `${cluster}: automatic failover was not ${what === 'block' ? 'blocked' : 'paused'}`;
}

export const ACK = remote({
  summary: 'lift the block on automatic failover that follows a failover',
  options: CLUSTER,
  examples: ['ack --cluster myservice --config /etc/pullover/controller.yaml'],
  build: (values) => ({ cluster: values.cluster }),
  call: async (client, { cluster }, io) => {
    const r = await client.ack(cluster);
    io.out(rearmed(r.cluster, 'block', r.was_blocked_until));
    return 0;
  },
});

export const PAUSE = remote({
  summary: 'no automatic failover for a while (a planned mysqld restart; max 7d)',
  options: {
    ...CLUSTER,
    for: {
      type: 'string',
      arg: 'DURATION',
      required: true,
      example: '30m, 2h',
      help: 'how long: 90s, 30m, 2h, 1h30m, 1d… (at most 7d); resume ends it sooner',
    },
    ...REASON,
  },
  examples: ['pause --cluster myservice --for 30m --reason "mysql1 upgrade" --config /etc/pullover/controller.yaml'],
  build: (values) => ({ cluster: values.cluster, forS: pauseSeconds(values.for), reason: values.reason }),
  call: async (client, { cluster, forS, reason }, io) => {
    const r = await client.pause(cluster, forS, reason);
    io.out(`${r.cluster}: automatic failover paused until ${r.paused_until}; pullover-controller resume --cluster ${r.cluster} ends it sooner`);
    return 0;
  },
});

export const RESUME = remote({
  summary: 'end a pause now',
  options: CLUSTER,
  examples: ['resume --cluster myservice --config /etc/pullover/controller.yaml'],
  build: (values) => ({ cluster: values.cluster }),
  call: async (client, { cluster }, io) => {
    const r = await client.resume(cluster);
    io.out(rearmed(r.cluster, 'pause', r.was_paused_until));
    return 0;
  },
});

export const SET_MASTER = remote({
  summary: 'point CLUSTER\'s hostnames at server NAME (MySQL is not touched)',
  options: { ...CLUSTER, ...REASON },
  positionals: SERVER,
  examples: ['set-master --cluster myservice mysql2 --reason "mysql1 is being rebuilt" --config /etc/pullover/controller.yaml'],
  build: (values, [server]) => ({ cluster: values.cluster, server: server as string, reason: values.reason }),
  call: async (client, { cluster, server, reason }, io) => {
    const r = await client.setMaster(cluster, { server, ...(reason !== undefined ? { reason } : {}) });
    io.out(
      r.changed
        ? `${r.cluster}: master ${r.previous_master} → ${r.master}, version ${r.version}`
        : `${r.cluster}: ${r.master} is already the master, version ${r.version} unchanged`,
    );
    return 0;
  },
});
