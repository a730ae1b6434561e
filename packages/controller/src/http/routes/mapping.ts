import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, MappingQuery } from '@pullover/protocol';
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ControllerClosing, describeCause, NotServing } from '../../errors.js';
import { AnswersFirst } from '../../mapping/answers-first.js';
import type { Published } from '../../mapping/publisher.js';
import { isBound } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { errorBody } from '../error-handler.js';
import { parseInput } from '../input.js';

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
 * Written straight to the socket: a publish answers every parked poll in one burst (10,000 of
 * them in the fan-out bench), and fastify's reply pipeline per answer would double that burst.
 * Nothing is lost by it here: the body is pre-encoded JSON and no hook acts on this route's answer.
 */
function send(reply: FastifyReply, published: Published): FastifyReply {
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': published.body.length,
    'cache-control': 'no-store',
  });
  reply.raw.end(published.body);
  return reply;
}

/** How a parked poll ends, written straight to the socket: it holds no fastify request any more. */
function answer(reply: FastifyReply, outcome: Published | null | ControllerClosing | NotServing): void {
  if (reply.raw.destroyed) return;
  // Every parked poll ends so at shutdown (10,000 of them held a restart up 1.8 s when each was an error line).
  if (outcome instanceof ControllerClosing) sendRefusal(reply, CLOSING);
  else if (outcome instanceof NotServing) sendRefusal(reply, encodeRefusal(outcome));
  else if (outcome === null) noNews(reply);
  else send(reply, outcome);
}

/** The hold ran out, or the client left: nothing newer (204). */
function noNews(reply: FastifyReply): void {
  reply.raw.writeHead(204, { 'cache-control': 'no-store' });
  reply.raw.end();
}

/** A restart takes about a second; the agents come back after 1 to 2 times this, at random. */
const CLOSING = encodeRefusal(new ControllerClosing());

function encodeRefusal(error: ControllerClosing | NotServing): Buffer {
  return Buffer.from(JSON.stringify(errorBody(503, error.code, error.message)), 'utf8');
}

/**
 * A parked poll refused (the controller is closing, or cut off from etcd): expected by the
 * thousand, so no error line each, written straight to the socket as the answers are.
 */
function sendRefusal(reply: FastifyReply, body: Buffer): FastifyReply {
  reply.hijack();
  reply.raw.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    'retry-after': '1',
    // Else the server's close() waits for each agent's next request on its keep-alive connection.
    'connection': 'close',
  });
  reply.raw.end(body);
  return reply;
}

export const mappingRoutes: FastifyPluginAsync<AppDeps> = async (app, { publisher, registry, now, fleet, role }) => {
  const ahead = new AheadWarning();
  const answersFirst = new AnswersFirst();
  publisher.listen(answersFirst);
  app.addHook('preClose', async () => answersFirst.releaseAll());
  const speaksFor = (request: FastifyRequest) => (request.query as { agent?: unknown }).agent;
  app.get('/v1/mapping', { config: { access: 'agent', speaksFor } }, async (request, reply) => {
    // Cut off from etcd for longer than the lease: a newer version may exist that this one cannot see.
    const cutOff = role?.servingProblem();
    if (cutOff !== undefined) return sendRefusal(reply, encodeRefusal(new NotServing(cutOff)));
    const { after, wait, agent, block } = parseInput(PollQuery, request.query, 'query');
    if (agent !== undefined && block !== undefined) {
      fleet.heard(agent, after, registry.acknowledge(agent, after, block, request.ip, now(), isBound(request.caller)));
    }
    if (publisher.version > after) return send(reply, publisher.current);
    if (after > publisher.version) ahead.note(app.log, request.ip, after, publisher.version);
    // Answered from here on without fastify: the parked poll holds no async frame nor promise.
    reply.hijack();
    // The request emits 'close' when the client leaves: its waiter is dropped at once, not at the
    // deadline. Not request.signal: an AbortController per parked poll is memory 10,000 times over.
    publisher.park(after, wait * 1000, request.raw, (outcome) => {
      // Called from within a publish, for each parked poll: one answer that fails must fail alone.
      try {
        answer(reply, outcome);
        if (outcome !== null && !(outcome instanceof Error)) answersFirst.hold(request.raw.socket);
      } catch (error) {
        app.log.error(`could not answer a parked poll from ${request.ip}: ${describeCause(error)}`);
        reply.raw.destroy();
      }
    });
    return reply;
  });
};
