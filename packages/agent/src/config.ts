import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { Duration, deepFreeze, issueLines, missingKeyMessage, Name, parseYaml } from '@pullover/protocol';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const ControllerUrl = z
  .url({ protocol: /^https?$/, message: 'not an http:// or https:// URL' })
  .transform((u) => u.replace(/\/+$/, ''));

/**
 * agent.yaml. Its keys are a public contract (operators' files and config management use them): keys
 * are added, never renamed. Only controllers and token_file are required; the rest have defaults.
 */
export const AgentConfigSchema = z.strictObject({
  name: Name.default(() => hostname().split('.')[0] ?? 'agent'),
  /**
   * Every controller (several share etcd). The agent holds one long-poll, on its own controller
   * first (a hash of its name: a fleet splits evenly, whatever the list's order), then the next on
   * a failure; a write of the hosts file never goes back to a lower version, whichever one serves it.
   */
  controllers: z.array(ControllerUrl).min(1, 'at least one controller URL is needed'),
  token_file: z.string().min(1),
  ca_file: z.string().min(1).optional(),
  hosts_file: z.string().min(1).default('/etc/hosts'),
  state_dir: z.string().min(1).default('/var/lib/pullover-agent'),
  /** A shell command run after each applied change, e.g. `nscd -i hosts` to drop a resolver cache. */
  on_change: z.string().min(1).optional(),
  /** How long the controller may hold a long-poll; the agent also reports after each hold. */
  wait: Duration.default(30_000),
  /** Extra time over the hold for an answer to arrive in full; a slower one is cut (slow loris). */
  http_timeout: Duration.default(10_000),
  /** How often the file is checked even without a watcher event. */
  check_interval: Duration.default(10_000),
  /** Backoff while no controller answers: full jitter, a random wait up to `min`·2^(retry−1), capped at `max`. */
  backoff: z.strictObject({ min: Duration.default(500), max: Duration.default(30_000) }).default({
    min: 500,
    max: 30_000,
  }),
  /** Drift repair: watch the hosts file and restore the block when something else rewrites it. */
  watch: z.boolean().default(true),
  /** Greeting probe of each published master, sent with every report. */
  probe_timeout: Duration.default(1000),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});
export type AgentConfig = z.output<typeof AgentConfigSchema>;

/**
 * Reads and validates agent.yaml; every problem at once, each naming the file and the key. Relative
 * paths are resolved against the file's directory (systemd starts services in /).
 */
export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${file}: cannot read the config: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
  const parsed = parseYaml(text, file);
  if (parsed.problems) throw new ConfigError(parsed.problems);
  const result = AgentConfigSchema.safeParse(parsed.value, { error: missingKeyMessage });
  if (!result.success) throw new ConfigError(issueLines(result.error.issues, file));
  const config = result.data;
  const at = (path: string) => resolve(dirname(file), path);
  return deepFreeze({
    ...config,
    token_file: at(config.token_file),
    hosts_file: at(config.hosts_file),
    state_dir: at(config.state_dir),
    ...(config.ca_file ? { ca_file: at(config.ca_file) } : {}),
  }) as AgentConfig;
}
