import { Address, Duration, Hostname, Name } from '@pullover/protocol';
import { z } from 'zod';
import { Listen } from './listen.js';
import { checkCrossFieldRules } from './rules.js';

// The keys are the public contract of controller.yaml: operators' files and scripts use them, so
// keys are added, never renamed.
// Every object is strict: a misspelt optional key ("no_mastr") would otherwise be silently ignored.

const FilePath = z.string().min(1, 'expected a file path');
const Command = z.string().min(1, 'expected a shell command');
const Positive = (text: string) => Duration.refine((ms) => ms > 0, 'must be longer than 0').prefault(text);

export const ServerSchema = z.strictObject({
  name: Name,
  address: Address,
  /** Preferred among equally advanced replicas when a new master is chosen. */
  candidate: z.boolean().default(false),
  /** Never made the master (a backup or reporting replica). */
  no_master: z.boolean().default(false),
});

export const MysqlSchema = z.strictObject({
  port: z.number().int().min(1).max(65535).default(3306),
  user: z.string().min(1),
  password_file: FilePath,
  replication_user: z.string().min(1),
  replication_password_file: FilePath,
});

export const MonitorSchema = z.strictObject({
  /** Milliseconds between two pings of the master. */
  interval: Positive('1s'),
  /** Milliseconds a ping may take before it counts as a failure. */
  timeout: Positive('1s'),
  ping: z.enum(['connect', 'select', 'insert']).default('connect'),
  failures: z.number().int().min(1).max(1000).default(3),
  /**
   * MASTER_HEARTBEAT_PERIOD of every replica pullover points: an idle master sends a heartbeat this
   * often, so a replica that hears nothing for longer has lost it (a hung or black-holed master).
   */
  replica_heartbeat: Positive('1s').refine((ms) => ms >= 100 && ms <= 60_000, 'must be between 100ms and 60s'),
});

export const HooksSchema = z.strictObject({
  before: Command.optional(),
  after: Command.optional(),
});

export const FailoverSchema = z.strictObject({
  auto: z.boolean().default(true),
  /** Milliseconds during which automatic failover stays blocked after one (anti-flapping). */
  min_interval: Duration.prefault('8h'),
  /** Run after the old master is fenced over SQL (power it off, detach its volume); awaited. */
  fence_command: Command.optional(),
  /** How long fence_command and each hook may run before they are killed. */
  command_timeout: Positive('30s'),
  hooks: HooksSchema.optional(),
  /** An MHA master_ip_failover_script, called with MHA's arguments (--command=stop|start …). */
  mha_failover_script: FilePath.optional(),
  /** How long the new master may take to apply its relay log (and catch up from a more advanced replica). */
  catchup_timeout: Positive('60s'),
  /** How long a failover waits for every live agent to report the new version before it is recorded. */
  agents_timeout: Positive('10s'),
  /**
   * App servers that still reach the master veto an automatic failover when they are more than
   * this share of the bound agents that answered (0: any one of them). With one or two answers,
   * any one vetoes: too few to outvote an oddly placed one.
   */
  agent_veto_share: z.number().min(0).lt(1, 'must be below 1: more than all of them can never veto').default(0.5),
});

export const ClusterSchema = z.strictObject({
  name: Name,
  master_hostnames: z.array(Hostname).min(1).max(64),
  /** The master at the very first start only (default: the first server); then the state dir decides. */
  master: Name.optional(),
  mysql: MysqlSchema,
  servers: z.array(ServerSchema).min(1).max(64),
  monitor: MonitorSchema.prefault({}),
  failover: FailoverSchema.prefault({}),
  /** auto: a fenced former master that answers again rejoins as a replica when it has no errant transactions. */
  rejoin: z.enum(['manual', 'auto']).default('manual'),
  /**
   * auto: a master that answers read_only (restarted with read_only=ON in its my.cnf) is made
   * writable when no other server could hold a write it lacks (set-writable's check), never while paused.
   */
  restart_recovery: z.enum(['manual', 'auto']).default('manual'),
});

/** Several controllers sharing their state through etcd; without `store`, the state dir alone (one controller). */
export const EtcdStoreSchema = z.strictObject({
  /** Client URLs of the etcd members, e.g. http://10.0.0.1:2379. */
  endpoints: z.array(z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })).min(1).max(16),
  /** Every key of this deployment lives under it: one etcd can serve several pullover deployments. */
  prefix: z.string().regex(/^\/([^/]+\/)*$/, 'expected a key prefix that starts and ends with "/"').default('/pullover/'),
  /** This controller's name among the controllers (default: the host name). */
  name: Name.optional(),
  /**
   * The URL the other controllers, the CLI and the page reach this one at (admin writes sent to a
   * follower are redirected to the leader's). Default: the listen address, or the host name when it
   * listens on every address.
   */
  advertise_url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
  /** The leader's lease; a new leader acts about this long after the old one died. Whole seconds. */
  lease_ttl: Positive('10s'),
  /** The longest one etcd call may take, every endpoint and retry included. */
  retry_timeout: Positive('3s'),
  ca_file: FilePath.optional(),
  cert_file: FilePath.optional(),
  key_file: FilePath.optional(),
});

export const ControllerSchema = z
  .strictObject({
    listen: Listen,
    state_dir: FilePath,
    store: z.strictObject({ etcd: EtcdStoreSchema }).optional(),
    tls: z.strictObject({ cert_file: FilePath, key_file: FilePath }).optional(),
    auth: z.strictObject({
      agent_tokens_file: FilePath,
      admin_tokens_file: FilePath,
      /** Tokens that may read status, history and events, and call nothing (a NOC screen, the status page). */
      viewer_tokens_file: FilePath.optional(),
    }),
    clusters: z.array(ClusterSchema).min(1).max(256),
  })
  // when: always — the cross-field rules run even when some field is invalid, so one run reports
  // everything; the rules read the partial value defensively.
  .superRefine((value, ctx) => checkCrossFieldRules(value, ctx), { when: () => true });

export type ControllerSchemaOutput = z.output<typeof ControllerSchema>;
