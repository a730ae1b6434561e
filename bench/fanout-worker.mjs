// One bench worker: many real agents in one process, each with its own connection, hosts file
// and state dir. Tells the parent when every agent has applied a given version.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentConfigSchema, ControllerClient, PulloverAgent, StateFile } from '@pullover/agent';
import pino from 'pino';

const { dir, url, token, from, to } = JSON.parse(process.argv[2]);
const logger = pino({ level: 'warn' });
const agents = [];
const applied = new Map(); // version -> [epoch ms]
let cpuAtStart = process.cpuUsage();

for (let i = from; i < to; i++) {
  const home = join(dir, `app${i}`);
  await mkdir(home, { recursive: true });
  const hostsFile = join(home, 'hosts');
  await writeFile(hostsFile, '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  const config = AgentConfigSchema.parse({
    name: `app${i}`,
    controllers: [url],
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
    clients: [new ControllerClient(url, { token, timeoutMs: config.http_timeout })],
    stateFile: new StateFile(config.state_dir),
    logger,
  });
  agent.on('applied', (outcome) => {
    const list = applied.get(outcome.version) ?? [];
    list.push(Date.now());
    applied.set(outcome.version, list);
    if (list.length === to - from) {
      const cpu = process.cpuUsage(cpuAtStart);
      process.send({
        type: 'applied',
        version: outcome.version,
        times: list,
        cpu_ms: (cpu.user + cpu.system) / 1000,
      });
    }
  });
  await agent.init();
  agents.push(agent);
}
for (const agent of agents) void agent.run();
process.send({ type: 'started' });
process.on('message', async (message) => {
  if (message.type === 'mark') cpuAtStart = process.cpuUsage();
  if (message.type === 'stop') {
    await Promise.allSettled(agents.map((a) => a.close()));
    process.exit(0);
  }
});
