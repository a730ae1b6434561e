import { z } from 'zod';
import { Name } from './names.js';

export const ClusterParams = z.strictObject({ cluster: Name });

/** POST /v1/clusters/:cluster/set-master: point the hostnames at a server; MySQL is not touched. */
export const SetMasterRequest = z.strictObject({
  server: Name,
  reason: z.string().max(500).optional(),
});
export type SetMasterRequest = z.infer<typeof SetMasterRequest>;

export const SetMasterResponse = z.strictObject({
  cluster: Name,
  previous_master: Name,
  master: Name,
  version: z.number().int().min(1),
  changed: z.boolean(),
});
export type SetMasterResponse = z.infer<typeof SetMasterResponse>;

/** Every non-2xx answer of the controller. `code` is stable (see the controller's errors.ts). */
export const ErrorBody = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  error: z.string(),
  message: z.string(),
  /** With 421 (PULLOVER_NOT_LEADER): the controller that leads now, null while nobody does. */
  leader: z.lazy(() => LeaderRef).nullable().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A controller as the others know it: its name (`store.etcd.name`) and the URL it serves on. */
export const LeaderRef = z.strictObject({
  name: Name,
  url: z.string().max(2048),
  /** The leader key's create revision: grows with every new leadership. */
  term: z.number().int().min(0),
});
export type LeaderRef = z.infer<typeof LeaderRef>;

/** One controller of the deployment, as GET /v1/leader and status list them. */
export const ControllerInfo = z.strictObject({
  name: Name,
  url: z.string().max(2048),
  role: z.enum(['leader', 'follower']),
});
export type ControllerInfo = z.infer<typeof ControllerInfo>;

/**
 * GET /v1/leader. `mode: single` is one controller with its state dir (always the actor);
 * `etcd`: several controllers, one leading at a time.
 */
export const LeaderResponse = z.strictObject({
  mode: z.enum(['single', 'etcd']),
  /** The controller that answered. */
  self: z.strictObject({ name: Name, role: z.enum(['single', 'leader', 'follower']), etcd_reachable: z.boolean() }),
  leader: LeaderRef.nullable(),
  controllers: z.array(ControllerInfo).max(64),
});
export type LeaderResponse = z.infer<typeof LeaderResponse>;
