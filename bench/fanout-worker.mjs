// One bench worker: many real agents in one process, each with its own connection, hosts file
// and state dir. Tells the parent when every agent has applied a given version (and from which
// controller: given several, each agent polls the one its name ranks first, as every real agent
// does), and what its agents logged. Exits when the parent goes: a bench killed any way must leave
// nothing running.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentConfigSchema, ControllerClient, PulloverAgent, StateFile } from '@pullover/agent';
import pino from 'pino';
import { agentToken } from './fanout-token.mjs';

process.on('disconnect', () => process.exit(1));

const { dir, urls, tokenSeed, from, to } = JSON.parse(process.argv[2]);
/** The agents' warnings and errors, counted by message (numbers masked), since the parent last asked. */
let counts = { warn: 0, error: 0, messages: new Map() };
const logger = pino(
  { level: 'warn' },
  {
    write(line) {
      const { level, msg } = JSON.parse(line);
      counts[level >= 50 ? 'error' : 'warn'] += 1;
      const shape = String(msg).replace(/\d+/g, 'N');
      counts.messages.set(shape, (counts.messages.get(shape) ?? 0) + 1);
    },
  },
);
const agents = [];
const applied = new Map(); // version -> { times: [epoch ms], via: [index in urls of the controller it came from] }
let cpuAtStart = process.cpuUsage();

for (let i = from; i < to; i++) {
  const home = join(dir, `app${i}`);
  await mkdir(home, { recursive: true });
  const hostsFile = join(home, 'hosts');
  await writeFile(hostsFile, '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  const config = AgentConfigSchema.parse({
    name: `app${i}`,
    controllers: urls,
    token_file: '/unused',
    hosts_file: hostsFile,
    state_dir: join(home, 'state'),
    watch: false,
    wait: '60s',
    probe_timeout: '1s',
    log_level: 'warn',
  });
  const agent = new PulloverAgent({
    config,
    clients: urls.map((url) => new ControllerClient(url, { token: agentToken(tokenSeed, `app${i}`), timeoutMs: config.http_timeout })),
    stateFile: new StateFile(config.state_dir),
    logger,
  });
  agent.on('applied', (outcome) => {
    const list = applied.get(outcome.version) ?? { times: [], via: [] };
    list.times.push(Date.now());
    list.via.push(urls.indexOf(agent.controller));
    applied.set(outcome.version, list);
    if (list.times.length === to - from) {
      const cpu = process.cpuUsage(cpuAtStart);
      process.send({
        type: 'applied',
        version: outcome.version,
        ...list,
        cpu_ms: (cpu.user + cpu.system) / 1000,
      });
    }
  });
  await agent.init();
  agents.push(agent);
}
for (const agent of agents) {
  agent.run().catch((error) => {
    // An agent that gives up is a failure of the run, not a line to count.
    console.error(`bench: agent stopped: ${error.message}`);
    process.exit(1);
  });
}
process.on('message', async (message) => {
  if (message.type === 'mark') cpuAtStart = process.cpuUsage();
  if (message.type === 'log') {
    process.send({ type: 'log', warn: counts.warn, error: counts.error, messages: [...counts.messages] });
    counts = { warn: 0, error: 0, messages: new Map() };
  }
  if (message.type === 'stop') {
    await Promise.allSettled(agents.map((a) => a.close()));
    process.exit(0);
  }
});
