import { hostname } from 'node:os';
import type { LeaderResponse } from '@pullover/protocol';
import type { EtcdRole } from '../ha/etcd-role.js';

/**
 * Who acts, for GET /v1/leader and status. Alone: this controller, at `selfUrl` (how the caller
 * reached it). On etcd: the leader as this controller last saw it, and every controller's member key.
 */
export async function leaderView(role: EtcdRole | undefined, selfUrl: string): Promise<LeaderResponse> {
  if (!role) {
    const self = { name: hostname(), url: selfUrl };
    return {
      mode: 'single',
      self: { name: self.name, role: 'single', etcd_reachable: false },
      leader: { ...self, term: 0 },
      controllers: [{ ...self, role: 'leader' }],
    };
  }
  const leader = role.leader();
  const controllers = await role.controllers().catch(() => []);
  const leading = leader?.name === role.name && role.timeLeftMs() > 0;
  return {
    mode: 'etcd',
    self: { name: role.name, role: leading ? 'leader' : 'follower', etcd_reachable: role.etcdReachable },
    leader,
    controllers,
  };
}
