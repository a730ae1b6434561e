import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';
import { renderMetrics } from '../metrics.js';

export function healthRoutes(app: FastifyInstance, { publisher, registry, keeper, engine, now }: AppDeps): void {
  app.get('/healthz', async () => ({ status: 'ok', version: publisher.version }));

  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(renderMetrics(publisher, registry, keeper, engine, now())),
  );
}
