import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { renderMetrics } from '../metrics.js';

export const healthRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const { publisher, registry, keeper, monitors, now } = deps;
  app.get('/healthz', async () => ({ status: 'ok', version: publisher.version }));

  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(renderMetrics(publisher, registry, keeper, monitors, now())),
  );
};
