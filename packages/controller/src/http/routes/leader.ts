import type { LeaderResponse } from '@pullover/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { leaderView } from '../leader-view.js';

/** GET /v1/leader: who acts. Alone, this controller; on etcd, the leader and every controller with its role. */
export const leaderRoutes: FastifyPluginAsync<AppDeps> = async (app, { role }) => {
  app.get('/v1/leader', { config: { access: 'viewer' } }, async (request): Promise<LeaderResponse> =>
    leaderView(role, `${request.protocol}://${request.host}`),
  );
};
