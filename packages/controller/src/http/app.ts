import { MAX_REPORT_BYTES } from '@pullover/protocol';
import fastify, { type FastifyInstance, LogController } from 'fastify';
import { WrongAgent } from '../errors.js';
import { FleetLog } from '../events/fleet-log.js';
import { createLogSink } from '../log-sink.js';
import { RefusalLog } from './auth.js';
import type { AppDeps } from './deps.js';
import { installErrorHandlers } from './error-handler.js';
import { adminRoutes } from './routes/admin.js';
import { agentRoutes } from './routes/agents.js';
import { eventRoutes } from './routes/events.js';
import { failoverRoutes } from './routes/failover.js';
import { healthRoutes } from './routes/health.js';
import { leaderRoutes } from './routes/leader.js';
import { MappingEndpoint, mappingRoutes } from './routes/mapping.js';
import { statusPageRoutes } from './routes/status-page.js';
import { serverFirst } from './server.js';

/**
 * The controller's HTTP API. Does not listen: tests drive it with inject(), startController listens.
 * Without a sink (tests of the HTTP layer alone) it logs nothing and keeps its own event log.
 */
export function buildApp(deps: Omit<AppDeps, 'now' | 'sink' | 'fleet'> & Partial<Pick<AppDeps, 'now' | 'sink'>>): FastifyInstance {
  const now = deps.now ?? (() => new Date());
  const sink = deps.sink ?? createLogSink(false, now);
  const fleet = new FleetLog(sink, deps.registry, now);
  deps.publisher.listen(fleet);
  const full: AppDeps = { ...deps, now, sink, fleet };
  const refusals = new RefusalLog();
  const polls = new MappingEndpoint(full, refusals);
  const app = fastify({
    loggerInstance: full.sink.logger,
    // One line per request would be 10,000 lines per poll cycle; events are logged as sentences instead.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request: a request id on the rare error line is not worth an object
    // for each of 10,000 parked polls.
    childLoggerFactory: (logger) => logger,
    bodyLimit: MAX_REPORT_BYTES,
    return503OnClosing: true,
    // The agents' long-polls skip fastify: see MappingEndpoint.
    serverFactory: serverFirst(polls, deps.https),
  }) as unknown as FastifyInstance;

  installErrorHandlers(app);
  // null, not an object: fastify refuses a shared reference as a request decoration's initial value.
  app.decorateRequest('caller', null as never);
  app.decorateRequest('actingChecked', false);
  // onRequest runs before the body is read: an unauthenticated client cannot make us parse anything.
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    const claimed = config?.speaksFor?.(request);
    try {
      request.caller = full.auth.check(
        config?.access ?? 'public',
        request.headers.authorization,
        typeof claimed === 'string' ? claimed : undefined,
        request.raw.socket,
      );
    } catch (error) {
      const line = error instanceof WrongAgent ? refusals.line(error, request.ip) : undefined;
      if (line) full.sink.say(line);
      throw error;
    }
    // An admin write to a follower is refused before it is read: the CLI re-sends it to the leader.
    const write = config?.access === 'admin' && request.method !== 'GET';
    if (write) {
      full.authority?.assertActing();
      request.actingChecked = true;
    }
  });
  // Parked polls would hold close() for up to MAX_WAIT_SECONDS; release them first (they answer 503).
  app.addHook('preClose', async () => {
    full.publisher.close();
    full.fleet.close();
    full.sink.events.close();
  });

  // Each route file is a plugin: it sees only what it is given, and nothing imports this file back.
  app.register(mappingRoutes, { endpoint: polls });
  const plugins = [eventRoutes, agentRoutes, adminRoutes, failoverRoutes, healthRoutes, leaderRoutes];
  for (const routes of plugins) {
    app.register(routes, full);
  }
  app.register(statusPageRoutes);
  return app;
}
