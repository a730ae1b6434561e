import { STATUS_CODES } from 'node:http';
import type { ErrorBody } from '@pullover/protocol';
import { MAX_REPORT_BYTES } from '@pullover/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Deposed, NotFound, NotLeader, PulloverError, Unauthorized } from '../errors.js';

export function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/** Every non-2xx answer is an ErrorBody with a stable code, whichever layer raised it. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | PulloverError | Error, request, reply) => {
    let body: ErrorBody;
    if (error instanceof NotLeader && request.actingChecked) {
      // Refused after it began: it may have changed something, so it must not be sent to the leader again.
      const deposed = new Deposed(error.message);
      body = errorBody(deposed.statusCode, deposed.code, deposed.message);
    } else if (error instanceof NotLeader) {
      body = { ...errorBody(error.statusCode, error.code, error.message), leader: error.leader };
    } else if (error instanceof PulloverError) {
      body = errorBody(error.statusCode, error.code, error.message);
    } else if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500) {
      // fastify's own request errors (bad JSON, wrong content type, body too large) keep their FST_ codes.
      const message =
        error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `request body is larger than ${MAX_REPORT_BYTES} bytes`
          : error.message;
      body = errorBody(error.statusCode, error.code ?? 'PULLOVER_BAD_REQUEST', message);
    } else {
      body = errorBody(500, 'PULLOVER_INTERNAL', `internal error: ${error.message}`);
    }
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
