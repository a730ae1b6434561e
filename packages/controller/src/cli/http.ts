// One HTTP exchange of the admin CLI with its controller, on node's own http and https: a command
// starts without loading an HTTP client library and compiling its parser (undici's llhttp is
// WebAssembly, compiled at the first request: tens of milliseconds of every `status`).
import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions, request as httpsRequest } from 'node:https';
import { CONNECT_MS, type Patience } from './timeouts.js';

/** How the CLI connects: the agent holds the TLS trust (ca, identity check) and the keepalive. */
export type Transport = HttpAgent | HttpsAgent;

/**
 * A transport for `url`. TCP keepalive (after 60 s idle) notices a host that vanishes during a
 * call that waits without bound for its answer (failover, switchover).
 */
export function transportFor(url: string, tls: Pick<AgentOptions, 'ca' | 'checkServerIdentity'> = {}): Transport {
  const options = { keepAlive: true, keepAliveMsecs: 60_000 };
  return url.startsWith('https:') ? new HttpsAgent({ ...options, ...tls }) : new HttpAgent(options);
}

/** A bound of Patience or CONNECT_MS ran out; `code` says which, for scripts and for describeCause. */
export class TimedOut extends Error {
  constructor(
    readonly code: 'CONNECT_TIMEOUT' | 'HEADERS_TIMEOUT' | 'BODY_TIMEOUT',
    message: string,
  ) {
    super(message);
    this.name = 'TimedOut';
  }
}

/**
 * The connection was never made (refused, no route, unknown name, CONNECT_TIMEOUT, TLS refused):
 * the request cannot have reached the controller, so sending it to another one is safe, a write too.
 * Says what the underlying error says.
 */
export class NotConnected extends Error {
  readonly code: string | undefined;

  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = 'NotConnected';
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}

export interface Exchange {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly patience: Patience;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Sends the request; resolves with the status and the whole body, or rejects (network, timeout,
 * abort), with NotConnected when no connection was made.
 */
export function exchange(url: string, transport: Transport, call: Exchange): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const request = send(url, {
      method: call.method,
      agent: transport,
      headers: call.body === undefined ? call.headers : { ...call.headers, 'content-length': Buffer.byteLength(call.body) },
      ...(call.signal ? { signal: call.signal } : {}),
    });
    const timer = new Deadline(request);
    let delivered = false;
    request.once('socket', (socket) => {
      const connected = () => {
        delivered = true;
        timer.start(call.patience.headersTimeout, 'HEADERS_TIMEOUT', 'no answer within');
      };
      // A reused socket is connected already; a new one gets CONNECT_MS for TCP and TLS together.
      if (!socket.connecting) return connected();
      timer.start(CONNECT_MS, 'CONNECT_TIMEOUT', 'no connection within');
      socket.once(url.startsWith('https:') ? 'secureConnect' : 'connect', connected);
    });
    request.once('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      const idle = () => timer.start(call.patience.bodyTimeout, 'BODY_TIMEOUT', 'the answer stalled for');
      idle();
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        idle();
      });
      response.once('end', () => {
        timer.stop();
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      response.once('error', reject);
    });
    request.once('error', (error) => {
      timer.stop();
      reject(delivered ? error : new NotConnected(error));
    });
    request.end(call.body);
  });
}

/** One timer at a time, each phase replacing the last: connect, then headers, then each body chunk. */
class Deadline {
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly request: ClientRequest) {}

  /** `ms` 0: no bound for this phase. */
  start(ms: number, code: TimedOut['code'], what: string): void {
    this.stop();
    if (ms > 0) this.#timer = setTimeout(() => this.request.destroy(new TimedOut(code, `${what} ${ms} ms`)), ms);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
