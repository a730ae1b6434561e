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
});
export type ErrorBody = z.infer<typeof ErrorBody>;
