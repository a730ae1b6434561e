import { readFile, rename, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planHostsFile } from '../packages/agent/src/hosts/block.js';
import { type AgentHandle, Fleet, HOSTNAME, ORIGINAL_HOSTS, SERVERS } from './support/fleet.js';
import { eventually } from './support/processes.js';

const BEGIN = '# BEGIN pullover — managed by pullover-agent, edits inside this block are overwritten';

/** The bytes every agent's file must hold when the hostname points at `address`. */
function expectedHosts(address: string): string {
  return `${BEGIN}
${address}\t${HOSTNAME}
# END pullover
127.0.0.1\tlocalhost
127.0.1.1\tapp.example\tapp

# hand-written before pullover
#pullover-off# ${SERVERS[0].address} ${HOSTNAME}

::1     localhost ip6-localhost ip6-loopback
`;
}

async function converged(agents: AgentHandle[], address: string): Promise<void> {
  await eventually(
    async () => {
      const files = await Promise.all(agents.map((a) => readFile(a.hostsFile, 'utf8')));
      return files.every((f) => f === expectedHosts(address));
    },
    10_000,
    `every agent's hosts file to point ${HOSTNAME} at ${address}`,
  );
}

describe('pull channel, real controller and agent processes', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await Fleet.create({ agents: 3 });
    await fleet.startController();
    await Promise.all(fleet.agents.map((a) => fleet.startAgent(a)));
  });
  afterAll(async () => {
    await fleet?.destroy();
  });

  it('agents write the block and comment out the hand-written line that would shadow it', async () => {
    await converged(fleet.agents, SERVERS[0].address);
    const log = await fleet.agents[0]?.proc?.log();
    expect(log).toContain('would shadow mysql-master.myservice.com');
  });

  it('set-master: every agent follows, and status says all of them are current', async () => {
    const before = await fleet.status();
    await fleet.setMaster('mysql2');
    await converged(fleet.agents, SERVERS[1].address);
    const status = await eventually(
      async () => {
        const s = await fleet.status();
        return s.agents_current === 3 && s.agents.every((a) => a.current) ? s : undefined;
      },
      10_000,
      'status to show 3 current agents',
    );
    expect(status.version).toBe(before.version + 1);
    expect(status.clusters[0]?.master).toBe('mysql2');
    expect(status.agents.map((a) => [a.name, a.applied_version]).sort()).toEqual([
      ['app1', status.version],
      ['app2', status.version],
      ['app3', status.version],
    ]);
    const table = await fleet.admin(['status']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('mysql2');
    expect(table.stdout).toMatch(/3\/3 agents/);
  });

  it('controller killed: agents keep their file; restarted: the version continues and agents catch up', async () => {
    const version = (await fleet.status()).version;
    const files = await Promise.all(fleet.agents.map((a) => readFile(a.hostsFile, 'utf8')));
    await fleet.controller?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await Promise.all(fleet.agents.map((a) => readFile(a.hostsFile, 'utf8')))).toEqual(files);
    expect(fleet.agents.every((a) => a.proc?.running)).toBe(true);

    await fleet.startController();
    expect((await fleet.status()).version).toBe(version);
    await fleet.setMaster('mysql3');
    expect((await fleet.status()).version).toBe(version + 1);
    await converged(fleet.agents, SERVERS[2].address);
  });

  it('another process rewrites a hosts file: the block is back within a second', async () => {
    const agent = fleet.agents[0] as AgentHandle;
    const want = await readFile(agent.hostsFile, 'utf8');
    for (const how of ['rename', 'in-place'] as const) {
      const start = Date.now();
      if (how === 'rename') {
        await writeFile(`${agent.hostsFile}.cm`, ORIGINAL_HOSTS);
        await rename(`${agent.hostsFile}.cm`, agent.hostsFile);
      } else {
        await writeFile(agent.hostsFile, ORIGINAL_HOSTS);
      }
      await eventually(
        async () => (await readFile(agent.hostsFile, 'utf8')) === want,
        3000,
        `block restored after ${how}`,
      );
      expect(Date.now() - start).toBeLessThan(1000);
    }
    expect(await agent.proc?.log()).toContain('was rewritten by something else; restored the pullover block');
  });

  it('SIGKILL of an agent during a storm of changes never leaves a truncated or half-written file', async () => {
    const agent = fleet.agents[2] as AgentHandle;
    const valid = new Set(
      SERVERS.map((s) => planHostsFile(ORIGINAL_HOSTS, [{ hostname: HOSTNAME, address: s.address }]).content),
    );
    let sampling = true;
    let samples = 0;
    const bad: string[] = [];
    const sampler = (async () => {
      while (sampling) {
        const text = await readFile(agent.hostsFile, 'utf8');
        samples += 1;
        if (!valid.has(text)) bad.push(text);
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 60; i++) {
      const server = SERVERS[i % 3] as (typeof SERVERS)[number];
      const response = await fleet.api('POST', '/v1/clusters/myservice/set-master', { server: server.name });
      expect(response.status).toBe(200);
      if (i === 30) await agent.proc?.kill('SIGKILL');
      if (i === 40) await fleet.startAgent(agent);
      await new Promise((r) => setTimeout(r, 5));
    }
    const last = (await fleet.status()).clusters[0]?.master;
    const address = SERVERS.find((s) => s.name === last)?.address as string;
    await converged(fleet.agents, address);
    sampling = false;
    await sampler;
    expect(samples).toBeGreaterThan(100);
    expect(bad).toEqual([]);
  });
});
