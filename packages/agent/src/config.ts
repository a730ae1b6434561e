import { hostname } from 'node:os';
import { Duration, loadYamlConfig, Name } from '@pullover/protocol';
import { z } from 'zod';

const ControllerUrl = z
  .url({ protocol: /^https?$/, message: 'not an http:// or https:// URL' })
  .transform((u) => u.replace(/\/+$/, ''));

/** agent.yaml. The keys of DESIGN's "Config files" are the public contract; the rest have defaults. */
export const AgentConfigSchema = z.strictObject({
  name: Name.default(() => hostname().split('.')[0] ?? 'agent'),
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
  /** Backoff while no controller answers: full jitter, from `min` up to `max`. */
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

export function loadAgentConfig(file: string): AgentConfig {
  return loadYamlConfig(file, AgentConfigSchema);
}
