import type { ServerResponse } from 'node:http';
import { ControllerClosing, type NotServing, Unauthorized } from '../errors.js';
import type { Published } from '../mapping/publisher.js';
import { errorBody, errorBodyOf } from './error-handler.js';

/**
 * The long-poll's answers, written straight to the response: a publish answers every parked poll
 * in one burst (10,000 of them in the fan-out bench), and the body is the same pre-encoded JSON
 * for all of them.
 */
export function writeMapping(res: ServerResponse, published: Published): void {
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': published.body.length,
    'cache-control': 'no-store',
  });
  res.end(published.body);
}

/** The hold ran out, or the client left: nothing newer (204). */
export function writeNoNews(res: ServerResponse): void {
  res.writeHead(204, { 'cache-control': 'no-store' });
  res.end();
}

export function encodeRefusal(error: ControllerClosing | NotServing): Buffer {
  return Buffer.from(JSON.stringify(errorBody(503, error.code, error.message)), 'utf8');
}

/** A restart takes about a second; the agents come back after 1 to 2 times this, at random. */
export const CLOSING = encodeRefusal(new ControllerClosing());

/**
 * A poll refused (the controller is closing, or cut off from etcd): expected by the thousand, so
 * no error line each.
 */
export function writeRefusal(res: ServerResponse, body: Buffer): void {
  res.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    'retry-after': '1',
    // Else the server's close() waits for each agent's next request on its keep-alive connection.
    'connection': 'close',
  });
  res.end(body);
}

/** A failed request, answered as the app's error handler answers: the same ErrorBody and status. */
export function writeError(res: ServerResponse, error: Error): number {
  const answer = errorBodyOf(error);
  const body = Buffer.from(JSON.stringify(answer), 'utf8');
  res.writeHead(answer.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    ...(error instanceof Unauthorized ? { 'www-authenticate': 'Bearer' } : {}),
  });
  res.end(body);
  return answer.statusCode;
}
