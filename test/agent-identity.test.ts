import { readFile, writeFile } from 'node:fs/promises';
import type { AgentReport } from '@pullover/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realCluster, startFailoverFleet, waitFailoversFiled } from './support/failover-fleet.js';
import { type AgentHandle, Fleet } from './support/fleet.js';
import { type Cluster, type Server, waitFor } from './support/mariadb.js';

// One leaked token (one app server compromised) can neither speak for other app servers nor
// block a failover: a token reports and polls as its own agent only, and a veto needs a share.

function report(master: { address: string; port: number }, reachable: boolean): AgentReport {
  return {
    applied_version: 1,
    block_hash: 'a'.repeat(64),
    hosts_file: '/etc/hosts',
    masters: [
      {
        cluster: 'myservice',
        address: master.address,
        port: master.port,
        reachable,
        detail: reachable ? 'greeting from 10.11.6-MariaDB (forged)' : 'connect ECONNREFUSED',
        checked_at: new Date().toISOString(),
      },
    ],
    agent_version: '0.1.0',
  };
}

describe('a token speaks for its own agent only', () => {
  let fleet: Fleet;
  let app1: AgentHandle;
  beforeAll(async () => {
    fleet = await Fleet.create({ agents: 2 });
    await fleet.startController();
    app1 = fleet.agents[0]!;
  });
  afterAll(() => fleet?.destroy());

  const as = (token: string) => ({ 'authorization': `Bearer ${token}`, 'content-type': 'application/json' });
  const reportAs = (name: string, token: string) =>
    fleet.fetch(`/v1/agents/${name}/report`, {
      method: 'POST',
      headers: as(token),
      body: JSON.stringify(report({ address: '127.0.10.1', port: 3306 }, true)),
    });
  const pollAs = (name: string, token: string) =>
    fleet.fetch(`/v1/mapping?after=0&wait=0&agent=${name}&block=${'ab'.repeat(32)}`, { headers: as(token) });

  it('app1\'s token reports and polls as app1', async () => {
    expect((await reportAs('app1', app1.token)).status).toBe(204);
    expect((await pollAs('app1', app1.token)).status).toBe(200);
  });

  it.each(['app2', 'no-such-agent'])('app1\'s token is refused (403) when it reports or polls as %s, and the log names app1', async (name) => {
    for (const call of [reportAs, pollAs]) {
      const res = await call(name, app1.token);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'PULLOVER_WRONG_AGENT' });
    }
    await waitFor(
      async () => (await fleet.controller!.log()).includes(`as agent ${name} with the token of app1: a token speaks only for its own agent`),
      5000,
      'the refusal in the controller\'s log',
    );
    expect((await fleet.status()).agents.map((a) => a.name)).not.toContain(name);
  });

  it('an agent run under another name with app1\'s token gets nothing and says why', async () => {
    const impostor = fleet.agents[1]!;
    const config = await readFile(impostor.configFile, 'utf8');
    await writeFile(impostor.configFile, config.replace(impostor.tokenFile, app1.tokenFile));
    const proc = await fleet.startAgent(impostor);
    await waitFor(async () => /403.*speaks for app1 only, not for app2/.test(await proc.log()), 10_000, 'app2 to be refused');
    expect((await fleet.status()).agents.map((a) => a.name)).not.toContain('app2');
  });
});

describe('one app server that reaches the master does not veto a failover the others agree on', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  realCluster(60, (c) => {
    cluster = c;
    [mysql1, mysql2] = c.servers as [Server, Server];
  });

  it('three agents lose the killed master, a fourth (forged) still "reaches" it: the failover goes ahead', async () => {
    // agents_timeout 1s: the forger never applies anything, the record need not wait 10 s for it.
    const fleet = await startFailoverFleet(cluster, { agents: 3, clusterExtra: '    failover: { agents_timeout: 1s }\n' });
    const forger = await fleet.addAgent('app4');
    const master = { address: mysql1.address, port: mysql1.port };
    let forging = true;
    const forge = (async () => {
      while (forging) {
        await fleet.fetch('/v1/agents/app4/report', {
          method: 'POST',
          headers: { 'authorization': `Bearer ${forger.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(report(master, true)),
        });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      await waitFor(async () => (await fleet.status()).agents.some((a) => a.name === 'app4' && a.bound), 5000, 'app4 bound');
      await mysql1.kill('SIGKILL');
      const real = fleet.agents.filter((a) => a !== forger);
      await waitFor(async () => (await Promise.all(real.map((a) => fleet.resolve(a)))).every((x) => x === mysql2.address), 20_000, 'app1-3 on mysql2');
    } finally {
      forging = false;
      await forge;
    }
    const [record] = await waitFailoversFiled(fleet, 1);
    expect(record).toMatchObject({ old_master: 'mysql1', new_master: 'mysql2', trigger: 'auto' });
    const log = await fleet.controller!.log();
    expect(log).toMatch(/mysql1 is dead: .*3 app server\(s\) cannot reach it either; 1 still reach\(es\) it \(app4\)/);
  });
});
