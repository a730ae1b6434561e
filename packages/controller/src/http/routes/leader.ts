import { hostname } from 'node:os';
import type { LeaderResponse } from '@pullover/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';

/** GET /v1/leader: who acts. Alone, this controller; on etcd, the leader and every controller with its role. */
export const leaderRoutes: FastifyPluginAsync<AppDeps> = async (app, { role }) => {
  app.get('/v1/leader', { config: { access: 'viewer' } }, async (request): Promise<LeaderResponse> => {
    if (!role) {
      const self = { name: hostname(), url: `${request.protocol}://${request.host}` };
      return {
        mode: 'single',
        self: { name: self.name, role: 'single', etcd_reachable: false },
        leader: { ...self, term: 0 },
        controllers: [{ ...self, role: 'leader' }],
      };
    }
    const leader = role.leader();
    const controllers = await role.controllers().catch(() => []);
    return {
      mode: 'etcd',
      self: { name: role.name, role: leader?.name === role.name && role.timeLeftMs() > 0 ? 'leader' : 'follower', etcd_reachable: role.etcdReachable },
      leader,
      controllers,
    };
  });
};
