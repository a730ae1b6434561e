#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { mappingEntries } from '@pullover/protocol';
import { type AgentConfig, loadAgentConfig } from './config.js';
import { ConfigError, UsageError } from './errors.js';
import { planHostsFile } from './hosts/block.js';
import { readHostsFile } from './hosts/write.js';
import { createAgent, createLogger } from './setup.js';
import { appliedVersion, StateFile } from './state.js';
import { uninstallAgent } from './uninstall.js';
import { STOP_FIRST, USAGE } from './usage.js';
import { AGENT_VERSION } from './version.js';

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.version === true) {
    console.log(`pullover-agent ${AGENT_VERSION}`);
    return 0;
  }
  const command = positionals[0];
  const asked = values.help === true || command === 'help';
  if (asked || !command) {
    console.log(USAGE);
    return asked ? 0 : 2;
  }
  // Before --config, so that a typo is named as a typo.
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (!values.config) throw new UsageError('--config FILE is required');
  const config = loadAgentConfig(values.config);
  switch (command) {
    case 'run':
      return run(values.config, config);
    case 'sync':
      return sync(values.config, config);
    case 'status':
      return status(config, values.json === true);
    case 'uninstall':
      return uninstall(config);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

const COMMANDS = ['run', 'sync', 'status', 'uninstall'];

async function run(file: string, config: AgentConfig): Promise<number> {
  const logger = createLogger(config);
  const agent = createAgent(file, config, logger);
  await agent.init();
  const stop = (signal: string) => {
    logger.info(`${signal}: stopping; the hosts file keeps version ${agent.appliedVersion}`);
    void agent.close();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  logger.info(
    { controllers: config.controllers, hosts_file: config.hosts_file, controller: agent.controller },
    `pullover-agent ${config.name} following ${config.controllers.join(', ')} for ${config.hosts_file}`
    + (config.controllers.length > 1 ? `; its own is ${agent.controller}` : ''),
  );
  await agent.run();
  return 0;
}

async function sync(file: string, config: AgentConfig): Promise<number> {
  const agent = createAgent(file, config, createLogger(config, process.stderr));
  try {
    await agent.init();
    const mapping = await agent.syncOnce();
    await agent.report();
    const ok = agent.appliedVersion === mapping.version;
    console.log(
      ok
        ? `${config.hosts_file} holds version ${mapping.version}`
        : `${config.hosts_file} does not hold version ${mapping.version}`,
    );
    return ok ? 0 : 1;
  } finally {
    await agent.close();
  }
}

async function status(config: AgentConfig, json: boolean): Promise<number> {
  const state = await new StateFile(config.state_dir).load();
  const mapping = state.mapping;
  const file = await readHostsFile(config.hosts_file);
  const inFile = mapping ? !planHostsFile(file, mappingEntries(mapping)).changed : false;
  if (json) {
    console.log(
      JSON.stringify({
        name: config.name,
        hosts_file: config.hosts_file,
        applied_version: appliedVersion(state),
        in_file: inFile,
        ...state,
      }),
    );
  } else {
    console.log(`agent ${config.name}`);
    if (!mapping) console.log('  no mapping applied yet');
    else {
      const term = mapping.term ? ` (term ${mapping.term})` : '';
      console.log(`  version     ${mapping.version}${term}, applied ${state.applied_at} from ${state.controller}`);
      console.log(
        `  hosts file  ${config.hosts_file}: ${inFile ? 'block matches' : 'BLOCK DIFFERS from the applied mapping'}`,
      );
      for (const cluster of mapping.clusters) {
        for (const entry of cluster.entries) {
          console.log(`  ${entry.hostname} → ${entry.address}  (${cluster.name} master ${cluster.master})`);
        }
      }
    }
  }
  return inFile ? 0 : 1;
}

async function uninstall(config: AgentConfig): Promise<number> {
  const outcome = await uninstallAgent(config);
  console.log(outcome.sentence);
  // Every time, done or not (a running agent restores its block within a second); on stderr, so
  // that stdout stays the one line of what was done.
  console.error(`note: a running pullover-agent puts the block back; stop it first: ${STOP_FIRST}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (
      error instanceof ConfigError
      || error instanceof UsageError
      || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      const hint = error instanceof ConfigError ? '' : ' (see pullover-agent --help)';
      console.error(`pullover-agent: ${(error as Error).message}${hint}`);
      process.exitCode = 2;
      return;
    }
    console.error(`pullover-agent: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
