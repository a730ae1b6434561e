import { readFileSync } from 'node:fs';
import { parseTokens } from '@pullover/protocol';
import pino, { type Logger } from 'pino';
import { PulloverAgent } from './agent.js';
import { ControllerClient } from './client.js';
import type { AgentConfig } from './config.js';
import { ConfigError } from './errors.js';
import { StateFile } from './state.js';

/** The first token in the agent's token file (the controller's format: one per line, `#` comments). */
export function readToken(configFile: string, tokenFile: string): string {
  let text: string;
  try {
    text = readFileSync(tokenFile, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${configFile}: token_file: cannot read ${tokenFile}: ${(error as NodeJS.ErrnoException).code}`,
    ]);
  }
  const { tokens, problems } = parseTokens(text);
  const token = tokens[0];
  if (!token) throw new ConfigError(problems.map((p) => `${configFile}: token_file: ${tokenFile} ${p}`));
  return token;
}

function readCa(configFile: string, caFile: string | undefined): string | undefined {
  if (!caFile) return undefined;
  try {
    return readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${configFile}: ca_file: cannot read ${caFile}: ${(error as NodeJS.ErrnoException).code}`,
    ]);
  }
}

/** JSON lines on stdout for the daemon (journald); a one-shot command passes stderr, keeping stdout for its result. */
export function createLogger(config: AgentConfig, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({ level: config.log_level, base: { agent: config.name } }, destination);
}

/** Builds an agent from its validated config: reads the secrets, opens one client per controller. */
export function createAgent(
  configFile: string,
  config: AgentConfig,
  logger = createLogger(config),
): PulloverAgent {
  const token = readToken(configFile, config.token_file);
  const ca = readCa(configFile, config.ca_file);
  const clients = config.controllers.map((url) => {
    if (url.startsWith('http://'))
      logger.warn({ controller: url }, `controller ${url} is plain HTTP: the token travels in clear`);
    return new ControllerClient(url, { token, timeoutMs: config.http_timeout, ...(ca ? { ca } : {}) });
  });
  return new PulloverAgent({ config, clients, stateFile: new StateFile(config.state_dir), logger });
}
