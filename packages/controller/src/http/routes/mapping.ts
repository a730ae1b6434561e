import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, MappingQuery } from '@pullover/protocol';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ControllerClosing, describeCause, NotServing, WrongAgent } from '../../errors.js';
import { AnswersFirst } from '../../mapping/answers-first.js';
import type { Published } from '../../mapping/publisher.js';
import { isBound, type RefusalLog } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../input.js';
import { CLOSING, encodeRefusal, writeError, writeMapping, writeNoNews, writeRefusal } from '../raw-answers.js';

const PATH = '/v1/mapping';

const PollQuery = MappingQuery.extend({
  // Clamped rather than refused: an agent configured for a longer hold still gets its answers.
  wait: z.coerce
    .number()
    .min(0)
    .default(DEFAULT_WAIT_SECONDS)
    .transform((seconds) => Math.min(seconds, MAX_WAIT_SECONDS)),
});

/** An agent ahead of the controller means a state dir restored from an old copy; say so, but not 10,000 times. */
class AheadWarning {
  #last = 0;
  #suppressed = 0;

  note(log: FastifyBaseLogger, remote: string, after: number, version: number): void {
    const now = Date.now();
    if (now - this.#last < 60_000) {
      this.#suppressed++;
      return;
    }
    const more = this.#suppressed > 0 ? ` (and ${this.#suppressed} more such polls in the last minute)` : '';
    this.#last = now;
    this.#suppressed = 0;
    log.warn(
      `an agent at ${remote} has applied version ${after}, but this controller is at version ${version}${more}: the state dir was probably restored from an old copy. Agents refuse versions they have passed, so they will not follow this controller; restore the newest state.json.`,
    );
  }
}

/**
 * GET /v1/mapping, the long-poll of every agent, served on Node's request and response alone.
 * It is most of what the controller serves: each agent's poll parks until the next publish, which
 * answers them all in one burst. Through fastify each poll also built a request, a reply and a
 * response listener, kept while it was parked (10,000 of them promoted to the old generation,
 * freed only by a major collection after the publish) and run again for each answer. The server
 * hands these requests here before fastify sees them (`serverFactory`); its checks are the app's
 * own: the same token check, query schema and error bodies.
 */
export class MappingEndpoint {
  readonly #deps: AppDeps;
  readonly #refusals: RefusalLog;
  readonly #log: FastifyBaseLogger;
  readonly #ahead = new AheadWarning();
  readonly answersFirst = new AnswersFirst();

  constructor(deps: AppDeps, refusals: RefusalLog) {
    this.#deps = deps;
    this.#refusals = refusals;
    this.#log = deps.sink.logger;
    deps.publisher.listen(this.answersFirst);
  }

  /** Whether the request is a poll of this endpoint (HEAD and the rest go to fastify). */
  serves(req: IncomingMessage): boolean {
    const url = req.url ?? '';
    return req.method === 'GET' && url.startsWith(PATH) && (url.length === PATH.length || url[PATH.length] === '?');
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.#poll(req, res);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (writeError(res, failure) >= 500) this.#log.error({ err: failure }, `GET ${PATH}: ${failure.message}`);
    }
  }

  #poll(req: IncomingMessage, res: ServerResponse): void {
    const { auth, role, publisher, registry, fleet, now } = this.#deps;
    const url = req.url ?? PATH;
    const query = parseQueryString(url.length > PATH.length ? url.slice(PATH.length + 1) : '');
    const ip = req.socket.remoteAddress ?? 'unknown';
    let caller;
    // Before anything else is read: an unauthenticated client cannot make us parse its query.
    try {
      caller = auth.check('agent', req.headers.authorization, typeof query.agent === 'string' ? query.agent : undefined, req.socket);
    } catch (error) {
      const line = error instanceof WrongAgent ? this.#refusals.line(error, ip) : undefined;
      if (line) this.#deps.sink.say(line);
      throw error;
    }
    // Cut off from etcd for longer than the lease: a newer version may exist that this one cannot see.
    const cutOff = role?.servingProblem();
    if (cutOff !== undefined) return writeRefusal(res, encodeRefusal(new NotServing(cutOff)));
    const { after, wait, agent, block } = parseInput(PollQuery, query, 'query');
    if (agent !== undefined && block !== undefined) {
      fleet.heard(agent, after, registry.acknowledge(agent, after, block, ip, now(), isBound(caller)));
    }
    if (publisher.version > after) return writeMapping(res, publisher.current);
    if (after > publisher.version) this.#ahead.note(this.#log, ip, after, publisher.version);
    // The request emits 'close' when the client leaves: its waiter is dropped at once, not at the
    // deadline. Not an AbortSignal: one per parked poll is memory 10,000 times over.
    publisher.park(after, wait * 1000, req, (outcome) => {
      // Called from within a publish, for each parked poll: one answer that fails must fail alone.
      try {
        this.#answer(res, outcome);
        if (outcome !== null && !(outcome instanceof Error)) this.answersFirst.hold(req.socket);
      } catch (error) {
        this.#log.error(`could not answer a parked poll from ${ip}: ${describeCause(error)}`);
        res.destroy();
      }
    });
  }

  #answer(res: ServerResponse, outcome: Published | null | ControllerClosing | NotServing): void {
    if (res.destroyed) return;
    // Every parked poll ends so at shutdown (10,000 of them held a restart up 1.8 s when each was an error line).
    if (outcome instanceof ControllerClosing) writeRefusal(res, CLOSING);
    else if (outcome instanceof NotServing) writeRefusal(res, encodeRefusal(outcome));
    else if (outcome === null) writeNoNews(res);
    else writeMapping(res, outcome);
  }
}

/**
 * The same endpoint as a fastify route: for what does not come through the server (app.inject in
 * tests) and for HEAD. The endpoint checks the token itself, so the route is public to the app's hook.
 */
export const mappingRoutes: FastifyPluginAsync<{ endpoint: MappingEndpoint }> = async (app, { endpoint }) => {
  app.addHook('preClose', async () => endpoint.answersFirst.releaseAll());
  app.get(PATH, (request, reply) => {
    reply.hijack();
    endpoint.handle(request.raw, reply.raw);
  });
};
