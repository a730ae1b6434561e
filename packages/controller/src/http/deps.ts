import type { AgentRegistry } from '../agents/registry.js';
import type { Authority } from '../ha/authority.js';
import type { EtcdRole } from '../ha/etcd-role.js';
import type { FleetLog } from '../events/fleet-log.js';
import type { LogSink } from '../log-sink.js';
import type { MappingPublisher } from '../mapping/publisher.js';
import type { ClusterMonitors } from '../monitor/cluster-monitors.js';
import type { StateKeeper } from '../state/keeper.js';
import type { Access, Caller, TokenAuth } from './auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; routes without it are public. */
    access?: Access;
    /** The agent a request speaks for (its URL's name, a poll's acknowledgement): only its own token may. */
    speaksFor?: (request: FastifyRequest) => unknown;
  }
  interface FastifyRequest {
    /** Set by the auth hook before anything reads the body. */
    caller: Caller;
    /** An admin write that this controller, leading, accepted: a NotLeader from then on means deposed mid-way. */
    actingChecked: boolean;
  }
}

/** What the HTTP app and each of its route plugins are given. */
export interface AppDeps {
  readonly keeper: StateKeeper;
  readonly publisher: MappingPublisher;
  readonly registry: AgentRegistry;
  /** Absent in tests of the HTTP layer alone: failover calls then answer 409. */
  readonly monitors?: ClusterMonitors;
  readonly auth: TokenAuth;
  /** Whether this controller may act: admin writes are refused (421) without it. Default: alone, always. */
  readonly authority?: Authority;
  /** On etcd: this controller among the others (GET /v1/leader, long-polls refused when cut off). */
  readonly role?: EtcdRole;
  /** Serve HTTPS with this PEM certificate and key. */
  readonly https?: { readonly cert: string; readonly key: string } | undefined;
  readonly now: () => Date;
  /** The journal and the event log: what the controller decided and did. */
  readonly sink: LogSink;
  /** Where the sentences about agents go: aggregated over the fleet, per agent at debug. */
  readonly fleet: FleetLog;
}
