import { MAX_REPORT_BYTES } from '@pullover/protocol';
import fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { AgentRegistry } from '../agents/registry.js';
import { EventLog } from '../events/event-log.js';
import type { LogLine } from '../log-line.js';
import type { MappingPublisher } from '../mapping/long-poll.js';
import type { FailoverEngine } from '../monitor/engine.js';
import type { StateKeeper } from '../state/keeper.js';
import type { Access, TokenAuth } from './auth.js';
import { installErrorHandlers } from './error-handler.js';
import { adminRoutes } from './routes/admin.js';
import { agentRoutes } from './routes/agents.js';
import { eventRoutes } from './routes/events.js';
import { failoverRoutes } from './routes/failover.js';
import { healthRoutes } from './routes/health.js';
import { mappingRoutes } from './routes/mapping.js';
import { statusPageRoutes } from './routes/status-page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; routes without it are public. */
    access?: Access;
  }
  interface FastifyInstance {
    /** Logs a sentence and keeps it in the event log (GET /v1/events). */
    say(line: LogLine): void;
  }
}

export interface AppDeps {
  readonly keeper: StateKeeper;
  readonly publisher: MappingPublisher;
  readonly registry: AgentRegistry;
  /** Absent in tests of the HTTP layer alone: failover calls then answer 409. */
  readonly engine?: FailoverEngine;
  readonly auth: TokenAuth;
  /** Serve HTTPS with this PEM certificate and key. */
  readonly https?: { readonly cert: string; readonly key: string } | undefined;
  /** fastify's (pino) logger options; false (the default) logs nothing. */
  readonly logger?: FastifyServerOptions['logger'];
  readonly now: () => Date;
  readonly events: EventLog;
  /** Logs a sentence and keeps it in `events`: what the controller decided and did. */
  readonly say: (line: LogLine) => void;
}

/** The controller's HTTP API. Does not listen: tests drive it with inject(), startController listens. */
export function buildApp(
  deps: Omit<AppDeps, 'now' | 'events' | 'say'> & Partial<Pick<AppDeps, 'now' | 'events'>>,
): FastifyInstance {
  const now = deps.now ?? (() => new Date());
  const events = deps.events ?? new EventLog(now);
  const say = (line: LogLine) => {
    events.append(line);
    app.log[line.level](line.cluster === undefined ? {} : { cluster: line.cluster }, line.message);
  };
  const full: AppDeps = { ...deps, now, events, say };
  const app = fastify({
    logger: deps.logger ?? false,
    // One line per request would be 10,000 lines per poll cycle; events are logged as sentences instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_REPORT_BYTES,
    return503OnClosing: true,
    ...(deps.https ? { https: { cert: deps.https.cert, key: deps.https.key } } : {}),
  }) as unknown as FastifyInstance;

  app.decorate('say', say);
  installErrorHandlers(app);
  // onRequest runs before the body is read: an unauthenticated client cannot make us parse anything.
  app.addHook('onRequest', async (request) => {
    full.auth.check(request.routeOptions.config?.access ?? 'public', request.headers.authorization);
  });
  // Parked polls would hold close() for up to MAX_WAIT_SECONDS; release them first (they answer 503).
  app.addHook('preClose', async () => {
    full.publisher.close();
    events.close();
  });

  mappingRoutes(app, full);
  eventRoutes(app, full);
  agentRoutes(app, full);
  adminRoutes(app, full);
  failoverRoutes(app, full);
  healthRoutes(app, full);
  statusPageRoutes(app);
  return app;
}
