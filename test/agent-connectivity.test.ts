import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeMysqld } from './support/fake-mysqld.js';
import { type AgentHandle, Fleet, ORIGINAL_HOSTS, SERVERS } from './support/fleet.js';
import { eventually, freePort } from './support/processes.js';

async function follows(fleet: Fleet, agent: AgentHandle, address: string): Promise<void> {
  await eventually(
    async () => (await fleet.resolve(agent)) === address,
    10_000,
    `${agent.name} → ${address}`,
  );
}

describe('agents reach their controller and report what they see', () => {
  let fleet: Fleet | undefined;
  let mysqld: Server | undefined;
  let silent: Server | undefined;
  afterEach(async () => {
    mysqld?.close();
    silent?.close();
    silent = undefined;
    await fleet?.destroy();
    fleet = undefined;
    mysqld = undefined;
  });

  it('over TLS: an agent with the CA follows; one without it refuses the controller and keeps its file', async () => {
    fleet = await Fleet.create({ agents: 1, tls: true });
    await fleet.startController();
    const trusting = fleet.agents[0] as AgentHandle;
    const untrusting = await fleet.addAgent('app-no-ca');
    const config = await readFile(untrusting.configFile, 'utf8');
    await writeFile(untrusting.configFile, config.replace(/^ca_file: .*\n/m, ''));
    await fleet.startAgent(trusting);
    await fleet.startAgent(untrusting);

    await follows(fleet, trusting, SERVERS[0].address);
    await fleet.setMaster('mysql2');
    await follows(fleet, trusting, SERVERS[1].address);

    await eventually(
      async () => /certificate/i.test((await untrusting.proc?.log()) ?? ''),
      10_000,
      'a TLS refusal',
    );
    expect(await readFile(untrusting.hostsFile, 'utf8')).toBe(ORIGINAL_HOSTS);
    expect(untrusting.proc?.running).toBe(true);
  });

  // The agent starts at the controller its name ranks first (rendezvous hashing), dead or not.
  it('with two controller URLs, one of them dead: the agent follows the live one', async () => {
    fleet = await Fleet.create();
    await fleet.startController();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const agent = await fleet.addAgent('app1', '', [dead, fleet.url]);
    await fleet.startAgent(agent);
    await follows(fleet, agent, SERVERS[0].address);
    await fleet.setMaster('mysql3');
    await follows(fleet, agent, SERVERS[2].address);
    expect(await agent.proc?.log()).toMatch(new RegExp(`applied version \\d+ from ${fleet.url}`));
  });

  it('reports whether each app server reaches the master: a greeting, not a bare connect', async () => {
    const port = await freePort();
    // Only mysql2 answers like mysqld; nothing listens on mysql1's address.
    mysqld = await fakeMysqld(SERVERS[1].address, port);
    fleet = await Fleet.create({ agents: 1, mysqlPort: port, agentExtra: 'wait: 1s\n' });
    await fleet.startController();
    const agent = fleet.agents[0] as AgentHandle;
    await fleet.startAgent(agent);

    const reach = async () => (await fleet?.status())?.agents.find((a) => a.name === 'app1')?.masters[0];
    const before = await eventually(async () => {
      const seen = await reach();
      return seen?.address === SERVERS[0].address ? seen : undefined;
    });
    expect(before).toMatchObject({ cluster: 'myservice', reachable: false, detail: 'connect ECONNREFUSED' });

    await fleet.setMaster('mysql2');
    const after = await eventually(async () => {
      const seen = await reach();
      return seen?.address === SERVERS[1].address ? seen : undefined;
    });
    expect(after).toMatchObject({ reachable: true, detail: 'greeting from 10.11.6-MariaDB-fake', port });
    expect(await fleet.resolve(agent)).toBe(SERVERS[1].address);

    // A hung mysqld: the kernel accepts, nothing greets. That is not reachable.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent?.listen(port, SERVERS[2].address, resolve));
    await fleet.setMaster('mysql3');
    const hung = await eventually(async () => {
      const seen = await reach();
      return seen?.address === SERVERS[2].address ? seen : undefined;
    });
    expect(hung).toMatchObject({ reachable: false, detail: 'no greeting within 1000 ms' });
  });
});
