import { ClusterParams, SetMasterRequest, type SetMasterResponse, type Status } from '@pullover/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../input.js';
import { leaderView } from '../leader-view.js';
import { buildStatus } from '../status.js';

export const adminRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const { keeper, registry, monitors, now, sink, role } = deps;
  app.get('/v1/status', { config: { access: 'viewer' } }, async (request): Promise<Status> => {
    const controllers = await leaderView(role, `${request.protocol}://${request.host}`);
    return { ...buildStatus(keeper, registry, now(), monitors), controllers };
  });

  app.post(
    '/v1/clusters/:cluster/set-master',
    { config: { access: 'admin' } },
    async (request): Promise<SetMasterResponse> => {
      const { cluster } = parseInput(ClusterParams, request.params, 'params');
      const { server, reason } = parseInput(SetMasterRequest, request.body, 'body');
      const { response, sentence } = await keeper.setMaster(cluster, server, reason);
      sink.say({
        level: 'info',
        cluster: response.cluster,
        message:
          sentence
          ?? `set-master ${response.cluster}: ${response.master} is already the master, version ${response.version} unchanged`,
      });
      return response;
    },
  );
};
