import { STATUS_CODES } from 'node:http';
import type { ErrorBody } from '@pullover/protocol';
import { MAX_REPORT_BYTES } from '@pullover/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Deposed, NotFound, NotLeader, PulloverError, Unauthorized } from '../errors.js';

export function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/**
 * The ErrorBody of a failed request. `actingChecked`: an admin write this controller accepted as
 * leader, so a NotLeader from then on means it was deposed mid-way.
 */
export function errorBodyOf(error: FastifyError | PulloverError | Error, actingChecked = false): ErrorBody {
  if (error instanceof NotLeader && actingChecked) {
    // Refused after it began: it may have changed something, so it must not be sent to the leader again.
    const deposed = new Deposed(error.message);
    return errorBody(deposed.statusCode, deposed.code, deposed.message);
  }
  if (error instanceof NotLeader) {
    return { ...errorBody(error.statusCode, error.code, error.message), leader: error.leader };
  }
  if (error instanceof PulloverError) return errorBody(error.statusCode, error.code, error.message);
  if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500) {
    // fastify's own request errors (bad JSON, wrong content type, body too large) keep their FST_ codes.
    const message =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body is larger than ${MAX_REPORT_BYTES} bytes` : error.message;
    return errorBody(error.statusCode, error.code ?? 'PULLOVER_BAD_REQUEST', message);
  }
  return errorBody(500, 'PULLOVER_INTERNAL', `internal error: ${error.message}`);
}

/** Every non-2xx answer is an ErrorBody with a stable code, whichever layer raised it. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | PulloverError | Error, request, reply) => {
    const body = errorBodyOf(error, request.actingChecked);
    if (body.statusCode >= 500) {
      request.log.error(
        { err: error },
        `${request.method} ${request.routeOptions.url ?? request.url}: ${error.message}`,
      );
    }
    if (error instanceof Unauthorized) void reply.header('www-authenticate', 'Bearer');
    return reply.code(body.statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new NotFound(`no such endpoint: ${request.method} ${request.url.slice(0, 200)}`);
    return reply.code(404).send(errorBody(404, error.code, error.message));
  });
}
