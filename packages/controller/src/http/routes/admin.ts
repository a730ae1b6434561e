import { ClusterParams, SetMasterRequest, type SetMasterResponse, type Status } from '@pullover/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../input.js';
import { buildStatus } from '../status.js';

export const adminRoutes: FastifyPluginAsync<AppDeps> = async (app, { keeper, registry, monitors, now, sink }) => {
  app.get('/v1/status', { config: { access: 'viewer' } }, async (): Promise<Status> => {
    return buildStatus(keeper, registry, now(), monitors);
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
