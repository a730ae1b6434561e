// A controller stood in for by a small HTTP server whose answers each test writes: the agent's
// tests and the admin CLI's (packages/controller/test) use it.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake controller saw: each request with the time it came, ms after the agent started. */
export interface Seen {
  at: number;
  method: string;
  url: string;
  body: string;
}

/** A controller whose answers each test writes; every request is recorded. */
export class FakeController {
  readonly seen: Seen[] = [];
  readonly #server: Server;
  #started = performance.now();
  answer: (req: IncomingMessage, res: ServerResponse, seen: Seen[]) => void = () => undefined;

  constructor() {
    this.#server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.once('end', () => {
        this.seen.push({ at: performance.now() - this.#started, method: req.method ?? '', url: req.url ?? '', body });
        this.answer(req, res, this.seen);
      });
    });
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  start(): void {
    this.#started = performance.now();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
