import { AgentParams, AgentReport } from '@pullover/protocol';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';
import { parseInput } from '../input.js';

export function agentRoutes(app: FastifyInstance, { registry, now }: AppDeps): void {
  app.post('/v1/agents/:name/report', { config: { access: 'agent' } }, async (request, reply) => {
    const { name } = parseInput(AgentParams, request.params, 'params');
    const report = parseInput(AgentReport, request.body, 'body');
    for (const line of registry.record(name, report, request.ip, now())) app.say(line);
    return reply.code(204).send();
  });
}
