import { AgentParams, AgentReport } from '@pullover/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../input.js';

export const agentRoutes: FastifyPluginAsync<AppDeps> = async (app, { registry, now, fleet }) => {
  app.post('/v1/agents/:name/report', { config: { access: 'agent' } }, async (request, reply) => {
    const { name } = parseInput(AgentParams, request.params, 'params');
    const report = parseInput(AgentReport, request.body, 'body');
    fleet.heard(name, report.applied_version, registry.record(name, report, request.ip, now()));
    return reply.code(204).send();
  });
};
