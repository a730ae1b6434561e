import { EventEmitter } from 'node:events';
import { type AgentReport, issueLines, MAX_MAPPING_BYTES, Mapping } from '@pullover/protocol';
import { Client, type Dispatcher } from 'undici';
import { ControllerUnavailableError, MappingRefusedError } from './errors.js';

export interface ClientOptions {
  token: string;
  /** PEM of the CA that signed the controller's certificate. */
  ca?: string;
  /** Extra time over the long-poll hold for the answer's headers and body to arrive. */
  timeoutMs: number;
}

/** One controller URL, one connection: the agent's report and long-poll take turns on it. */
export class ControllerClient {
  readonly url: string;
  readonly #options: ClientOptions;
  readonly #dispatcher: Client;

  constructor(url: string, options: ClientOptions) {
    this.url = url;
    this.#options = options;
    // A Client is one connection with requests in turn: exactly the report/poll alternation.
    this.#dispatcher = new Client(url, {
      keepAliveTimeout: 60_000,
      connect: options.ca ? { ca: options.ca } : {},
    });
  }

  /**
   * The controller's mapping if newer than `after`, or null when the hold ended with nothing new.
   * With `ack`, the poll also tells the controller that this agent's file holds version `after`.
   */
  async fetchMapping(
    after: number,
    waitMs: number,
    signal?: AbortSignal,
    ack?: { agent: string; block: string },
  ): Promise<Mapping | null> {
    const wait = Math.ceil(waitMs / 1000);
    const deadline = new Deadline(waitMs + this.#options.timeoutMs, signal);
    const acknowledging = ack ? `&agent=${encodeURIComponent(ack.agent)}&block=${ack.block}` : '';
    try {
      const path = `/v1/mapping?after=${after}&wait=${wait}${acknowledging}`;
      const response = await this.#call('GET', path, undefined, deadline);
      if (response.statusCode === 204) {
        await response.body.dump();
        return null;
      }
      if (response.statusCode !== 200) throw await this.#statusError(response);
      // A body trickled byte by byte (slow loris) is cut by the overall deadline.
      const text = await readLimited(response.body, MAX_MAPPING_BYTES, this.url).catch((error: unknown) => {
        if (deadline.expired)
          throw new ControllerUnavailableError(this.url, `no complete answer within ${deadline.ms} ms`);
        throw error;
      });
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new MappingRefusedError(this.url, 'the body is not JSON');
      }
      const parsed = Mapping.safeParse(json);
      if (!parsed.success)
        throw new MappingRefusedError(this.url, issueLines(parsed.error.issues, 'mapping').join('; '));
      return parsed.data;
    } finally {
      deadline.done();
    }
  }

  async report(name: string, report: AgentReport, signal?: AbortSignal): Promise<void> {
    const deadline = new Deadline(this.#options.timeoutMs, signal);
    try {
      const path = `/v1/agents/${encodeURIComponent(name)}/report`;
      const response = await this.#call('POST', path, JSON.stringify(report), deadline);
      if (response.statusCode >= 300) throw await this.#statusError(response);
      await response.body.dump();
    } finally {
      deadline.done();
    }
  }

  close(): Promise<void> {
    return this.#dispatcher.destroy();
  }

  async #call(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    deadline: Deadline,
  ): Promise<Dispatcher.ResponseData> {
    try {
      return await this.#dispatcher.request({
        path,
        method,
        headers: {
          authorization: `Bearer ${this.#options.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body,
        signal: deadline.signal,
        // The deadline bounds the whole exchange; undici's own timers would only bound the gaps.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (error) {
      const reason = deadline.expired ? `no answer within ${deadline.ms} ms` : errorText(error);
      throw new ControllerUnavailableError(this.url, reason);
    }
  }

  async #statusError(response: Dispatcher.ResponseData): Promise<Error> {
    const text = await readLimited(response.body, 4096, this.url).catch(() => '');
    let body: { message?: unknown; code?: unknown } = {};
    try {
      body = (JSON.parse(text) as typeof body | null) ?? {};
    } catch {
      body = {};
    }
    const message = typeof body.message === 'string' ? body.message : '';
    const status = response.statusCode;
    const hint = status === 401 || status === 403 ? ' (check token_file against the controller)' : '';
    return new ControllerUnavailableError(this.url, `HTTP ${status}${message ? `: ${message.slice(0, 200)}` : ''}${hint}`, {
      status,
      code: typeof body.code === 'string' ? body.code : undefined,
      retryAfterMs: status === 503 ? retryAfterMs(response.headers['retry-after']) : undefined,
    });
  }
}

/** The body as text, refused beyond `limit` bytes. Plain events: an async iterator per answer costs more than the answer. */
function readLimited(body: Dispatcher.ResponseData['body'], limit: number, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        body.destroy();
        reject(new MappingRefusedError(url, `the answer is larger than ${limit} bytes`));
      } else {
        chunks.push(chunk);
      }
    });
    body.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    body.once('error', (error) =>
      reject(new ControllerUnavailableError(url, `the answer broke off: ${errorText(error)}`)),
    );
  });
}

/** Retry-After in seconds (the controller sends nothing else), bounded: a broken value must not park an agent for a day. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return header !== undefined && Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 300) * 1000 : undefined;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code =
      typeof (error as NodeJS.ErrnoException).code === 'string' ? (error as NodeJS.ErrnoException).code : '';
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${code ? `${code} ` : ''}${error.message}${cause}`;
  }
  return String(error);
}

/**
 * One timer bounding a whole exchange, tied to the agent's stop signal. A plain timer, and an
 * EventEmitter as the signal undici listens to: AbortSignal.timeout plus AbortSignal.any per
 * request, or even one AbortController, cost more than the request itself when thousands of
 * agents share a process (the fan-out bench).
 */
class Deadline extends EventEmitter {
  readonly #timer: NodeJS.Timeout;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuter = () => this.#abort();
  readonly ms: number;
  /** undici checks it before it listens. */
  aborted = false;
  expired = false;

  constructor(ms: number, outer: AbortSignal | undefined) {
    super();
    this.ms = ms;
    this.#timer = setTimeout(() => {
      this.expired = true;
      this.#abort();
    }, ms);
    this.#outer = outer;
    if (outer?.aborted) this.#abort();
    else outer?.addEventListener('abort', this.#onOuter, { once: true });
  }

  get signal(): EventEmitter {
    return this;
  }

  done(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener('abort', this.#onOuter);
  }

  #abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}
