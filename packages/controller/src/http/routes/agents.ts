import { AgentParams, AgentReport } from '@pullover/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../input.js';

export const agentRoutes: FastifyPluginAsync<AppDeps> = async (app, { registry, now, sink }) => {
  app.post('/v1/agents/:name/report', { config: { access: 'agent' } }, async (request, reply) => {
    const { name } = parseInput(AgentParams, request.params, 'params');
    const report = parseInput(AgentReport, request.body, 'body');
    for (const line of registry.record(name, report, request.ip, now())) sink.say(line);
    return reply.code(204).send();
  });
};
