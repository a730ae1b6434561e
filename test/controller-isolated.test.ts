import { execFileSync, spawn } from 'node:child_process';
import { createConnection, createServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failoverHistory, resolvedBy, startFailoverFleet } from './support/failover-fleet.js';
import type { Fleet } from './support/fleet.js';
import { type Cluster, type Server, startCluster, waitFor } from './support/mariadb.js';
import { Proc, ROOT } from './support/processes.js';

// The controller runs in its own network namespace: it reaches mysql2 and mysql3 (and the agents
// reach it) only through bridges over unix sockets, and mysql1 not at all — a wrong route, as
// seen from the controller. The app servers (agents) still reach mysql1 directly.

const NS = `pullover-iso-${process.pid}`;
const BRIDGE = join(ROOT, 'test/support/bridge.mjs');

describe('a controller cut off from a live master', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let fleet: Fleet | undefined;
  let bridge: Proc | undefined;
  let front: NetServer | undefined;

  beforeAll(async () => {
    cluster = await startCluster({ id: 24 });
    mysql1 = cluster.master;
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
  });
  afterAll(async () => {
    execFileSync('ip', ['netns', 'delete', NS]);
    await cluster?.destroy();
  });
  beforeEach(() => cluster.reset());
  afterEach(async () => {
    await fleet?.destroy();
    await bridge?.kill('SIGKILL');
    front?.close();
    fleet = undefined;
  });

  /** Replication stopped (only the agents can vouch for mysql1), the controller in its namespace. */
  async function cutOffFleet(agentLauncher?: string[]): Promise<Fleet> {
    for (const replica of cluster.replicas) await replica.query('STOP SLAVE');
    return startFailoverFleet(cluster, {
      // Cut off from the start, the controller never saw the agents' view; short holds bring it soon.
      agentExtra: 'wait: 1s\n',
      ...(agentLauncher ? { agentLauncher } : {}),
      startController: async (f) => {
        const ctlSocket = join(f.dir, 'controller.sock');
        const pairs = cluster.replicas.map((s) => `tcp:${s.address}:${s.port}=>unix:${s.socket}`);
        const child = spawn('ip', ['netns', 'exec', NS, process.execPath, BRIDGE, `unix:${ctlSocket}=>tcp:127.0.0.1:${f.port}`, ...pairs], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        bridge = new Proc(child, join(f.dir, 'bridge.log'), join(f.dir, 'bridge.pid'));
        await new Promise((r) => child.stdout?.once('data', r));
        // The agents' side: the controller's port on this namespace's loopback, piped to the bridge.
        front = createServer((c) => {
          const up = createConnection({ path: ctlSocket });
          c.pipe(up).pipe(c);
          c.on('error', () => up.destroy());
          up.on('error', () => c.destroy());
        }).listen(f.port, '127.0.0.1');
        return f.startController(['ip', 'netns', 'exec', NS, process.execPath]);
      },
    });
  }

  it('fails nothing over while the app servers still reach the master, and says the controller is cut off', async () => {
    fleet = await cutOffFleet();
    // Each agent's answer arrives on its own; the verdict names those heard so far.
    await waitFor(
      async () => /but 2 of 2 app server\(s\) that answered still do \(app1, app2\)/.test((await fleet!.status()).clusters[0]?.health?.sentence ?? ''),
      15_000,
      'the controller to find itself cut off, on the word of both agents',
    );
    const health = (await fleet.status()).clusters[0]?.health;
    expect(health?.state).toBe('controller-isolated');
    expect(health?.sentence).toMatch(/^the controller cannot reach mysql1 \(connection refused/);
    expect(health?.sentence).toMatch(/the controller is cut off, no failover$/);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await failoverHistory(fleet)).toEqual([]);
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    expect(await fleet.controller?.log()).toMatch(/the controller is cut off, no failover/);
  });

  it('an app server whose clock is an hour behind still vetoes: its report is dated by the controller\'s clock', async () => {
    // Before, the agent's own checked_at (an hour old) made its "I reach mysql1" look stale.
    // libfaketime preloaded by env, which execs node: the faketime wrapper forks, and killing it by
    // PID would leave the agent running.
    const faked = ['FAKETIME_DONT_FAKE_MONOTONIC=1', 'FAKETIME=-1h', 'LD_PRELOAD=/usr/$LIB/faketime/libfaketime.so.1'];
    fleet = await cutOffFleet(['env', ...faked, process.execPath]);
    await waitFor(
      async () => /but 2 of 2 app server\(s\) that answered still do \(app1, app2\)/.test((await fleet!.status()).clusters[0]?.health?.sentence ?? ''),
      15_000,
      'the controller to find itself cut off, on the word of both agents',
    );
    const agents = (await fleet.status()).agents;
    expect(Date.now() - Date.parse(agents[0]?.masters[0]?.checked_at ?? '')).toBeGreaterThan(3_000_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await failoverHistory(fleet)).toEqual([]);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
  });
});
