import {
  type AckResponse,
  ClusterParams,
  type FailoverRecord,
  FailoverRequest,
  type HistoryResponse,
  PauseRequest,
  type PauseResponse,
  type ResumeResponse,
  RejoinRequest,
  type RejoinResponse,
  type ReplicaHeartbeatResponse,
  type SetWritableResponse,
  SwitchoverRequest,
  type SwitchoverResponse,
} from '@pullover/protocol';
import type { FastifyPluginAsync } from 'fastify';
import { FailoverRefused } from '../../errors.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../input.js';

export const failoverRoutes: FastifyPluginAsync<AppDeps> = async (app, { keeper, monitors, now, sink }) => {
  app.get('/v1/history', { config: { access: 'viewer' } }, async (): Promise<HistoryResponse> => {
    const running = Object.values(keeper.state.failover).flatMap((f) => (f.running ? [f.running.record] : []));
    return { failovers: [...keeper.state.failovers, ...running] };
  });

  app.post('/v1/clusters/:cluster/failover', { config: { access: 'admin' } }, async (request): Promise<FailoverRecord> => {
    const { cluster } = parseInput(ClusterParams, request.params, 'params');
    const body = parseInput(FailoverRequest, request.body ?? {}, 'body');
    const { to, reason, force } = body;
    keeper.cluster(cluster);
    if (!monitors) throw new FailoverRefused(cluster, 'this controller does not monitor MySQL');
    const why = reason ? ` (reason: ${reason})` : '';
    sink.say({ level: 'warn', cluster, message: `${cluster}: manual failover requested${to ? ` onto ${to}` : ''}${force ? ', forced past a failed fence' : ''}${why}` });
    return monitors.failover(cluster, body);
  });

  app.post('/v1/clusters/:cluster/set-writable', { config: { access: 'admin' } }, async (request): Promise<SetWritableResponse> => {
    const { cluster } = parseInput(ClusterParams, request.params, 'params');
    keeper.cluster(cluster);
    if (!monitors) throw new FailoverRefused(cluster, 'this controller does not monitor MySQL');
    return monitors.setWritable(cluster);
  });

  app.post('/v1/clusters/:cluster/replica-heartbeat', { config: { access: 'admin' } }, async (request): Promise<ReplicaHeartbeatResponse> => {
    const { cluster } = parseInput(ClusterParams, request.params, 'params');
    keeper.cluster(cluster);
    if (!monitors) throw new FailoverRefused(cluster, 'this controller does not monitor MySQL');
    return monitors.setReplicaHeartbeat(cluster);
  });

  app.post('/v1/clusters/:cluster/switchover', { config: { access: 'admin' } }, async (request): Promise<SwitchoverResponse> => {
    const { cluster } = parseInput(ClusterParams, request.params, 'params');
    const body = parseInput(SwitchoverRequest, request.body ?? {}, 'body');
    keeper.cluster(cluster);
    if (!monitors) throw new FailoverRefused(cluster, 'this controller does not monitor MySQL');
    return monitors.switchover(cluster, body);
  });

  app.post('/v1/clusters/:cluster/rejoin', { config: { access: 'admin' } }, async (request): Promise<RejoinResponse> => {
    const { cluster } = parseInput(ClusterParams, request.params, 'params');
    const { server } = parseInput(RejoinRequest, request.body, 'body');
    keeper.server(keeper.cluster(cluster), server);
    if (!monitors) throw new FailoverRefused(cluster, 'this controller does not monitor MySQL');
    return monitors.rejoin(cluster, server);
  });

  app.post('/v1/clusters/:cluster/ack', { config: { access: 'admin' } }, async (request): Promise<AckResponse> => {
    const { cluster } = parseInput(ClusterParams, request.params, 'params');
    const was = await keeper.ack(cluster);
    sink.say({
      level: 'info',
      cluster,
      message: was
        ? `${cluster}: failover block lifted by ack (it would have ended at ${was}); automatic failover is armed again`
        : `${cluster}: ack, but automatic failover was not blocked`,
    });
    return { cluster, was_blocked_until: was };
  });

  app.post('/v1/clusters/:cluster/pause', { config: { access: 'admin' } }, async (request): Promise<PauseResponse> => {
    const { cluster } = parseInput(ClusterParams, request.params, 'params');
    const { for_s: seconds, reason } = parseInput(PauseRequest, request.body, 'body');
    const until = new Date(now().getTime() + seconds * 1000);
    await keeper.pause(cluster, until, reason ?? null);
    sink.say({
      level: 'warn',
      cluster,
      message: `${cluster}: automatic failover paused until ${until.toISOString()}${reason ? ` (reason: ${reason})` : ''}; a dead master stays dead until resume or a manual failover`,
    });
    return { cluster, paused_until: until.toISOString() };
  });

  app.post('/v1/clusters/:cluster/resume', { config: { access: 'admin' } }, async (request): Promise<ResumeResponse> => {
    const { cluster } = parseInput(ClusterParams, request.params, 'params');
    const was = await keeper.resume(cluster, now());
    sink.say({
      level: 'info',
      cluster,
      message: was
        ? `${cluster}: resumed: automatic failover is armed again (the pause would have ended at ${was})`
        : `${cluster}: resume, but automatic failover was not paused`,
    });
    return { cluster, was_paused_until: was };
  });
};
