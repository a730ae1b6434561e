import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { FastifyServerFactory } from 'fastify';

/** An endpoint served on Node's request and response, before fastify routes anything. */
export interface FirstHandler {
  serves(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

type Tls = { readonly cert: string; readonly key: string };

/**
 * The HTTP(S) server of the app: requests `first` serves go to it, the rest to fastify. Set up as
 * fastify sets up its own server (its timeouts), which it does not do for a server it is given.
 */
export function serverFirst(first: FirstHandler, tls: Tls | undefined): FastifyServerFactory {
  return (fastifyHandler, options) => {
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      if (first.serves(req)) first.handle(req, res);
      else fastifyHandler(req, res);
    };
    const server: Server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key }, listener)
      : createHttpServer(listener);
    const { keepAliveTimeout, requestTimeout, connectionTimeout } = options;
    if (typeof keepAliveTimeout === 'number') server.keepAliveTimeout = keepAliveTimeout;
    if (typeof requestTimeout === 'number') server.requestTimeout = requestTimeout;
    if (typeof connectionTimeout === 'number') server.setTimeout(connectionTimeout);
    return server;
  };
}
