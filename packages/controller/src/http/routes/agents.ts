import { AgentParams, AgentReport } from '@pullover/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ControllerBusy } from '../../errors.js';
import { isBound } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { errorBody } from '../error-handler.js';
import { parseInput } from '../input.js';
import { LoopLag, ReportShedding } from '../overload.js';

export const agentRoutes: FastifyPluginAsync<AppDeps> = async (app, { registry, publisher, now, sink, fleet }) => {
  const lag = new LoopLag();
  const shedding = new ReportShedding(() => lag.ms, sink.say);
  app.addHook('onClose', async () => lag.close());
  // Before the body is read: a shed report costs the controller next to nothing.
  app.addHook('onRequest', async (request, reply) => {
    const { name } = request.params as { name?: string };
    const known = name === undefined ? undefined : registry.get(name);
    const retryAfter = shedding.decide(known !== undefined && known.report.applied_version < publisher.version);
    if (retryAfter === undefined) return;
    const busy = new ControllerBusy(retryAfter);
    await reply.code(503).header('retry-after', String(retryAfter)).send(errorBody(503, busy.code, busy.message));
  });

  const speaksFor = (request: FastifyRequest) => (request.params as { name?: unknown }).name;
  app.post('/v1/agents/:name/report', { config: { access: 'agent', speaksFor } }, async (request, reply) => {
    const { name } = parseInput(AgentParams, request.params, 'params');
    const report = parseInput(AgentReport, request.body, 'body');
    const lines = registry.record(name, report, request.ip, now(), isBound(request.caller));
    fleet.heard(name, report.applied_version, lines);
    return reply.code(204).send();
  });
};
