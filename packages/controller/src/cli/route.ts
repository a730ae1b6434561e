// Which controller one CLI request goes to when several are given, and what a 421 from a
// follower does: the request goes to the leader it names, once.
import { ErrorBody, type LeaderRef } from '@pullover/protocol';
import { describeCause, RemoteError, Unreachable } from '../errors.js';
import type { Endpoint, Endpoints } from './endpoint.js';
import { type Exchange, exchange, NotConnected } from './http.js';

/** What a proxy or load balancer answers when it cannot reach the controller behind it. */
const GATEWAY_STATUSES = [502, 503, 504];

export const NO_LEADER = 'no controller leads right now (election under way?): retry in a few seconds';

export interface Answer {
  readonly status: number;
  readonly text: string;
  /** The controller that answered. */
  readonly url: string;
}

/**
 * Sends each request to the controller that answered last (the first given, at first), and on to
 * the next given one when it cannot be reached: any read, and a write whose connection was never
 * made (a write cut off later may have been carried out, so it is not sent twice). A 421 is a
 * follower's refusal of a write, which it did not apply: the request is sent again to the leader
 * the 421 names, once; with no leader named, to the other given controllers. A 503 that is the
 * controller's own answer (overloaded, closing) is final: another controller would be as busy.
 */
export class Route {
  readonly #endpoints: Endpoints;
  #preferred: Endpoint | undefined;

  constructor(endpoints: Endpoints) {
    this.#endpoints = endpoints;
    this.#preferred = endpoints.given[0];
  }

  async send(path: string, call: Exchange): Promise<Answer> {
    const first = this.#preferred;
    const order = [...(first ? [first] : []), ...this.#endpoints.given.filter((e) => e !== first)];
    const asked = new Set<string>();
    const lost: { url: string; error: Unreachable }[] = [];
    let refused = false;
    let followed = false;
    for (const endpoint of order) {
      if (asked.has(endpoint.url)) continue;
      asked.add(endpoint.url);
      let answer: Answer;
      try {
        answer = await this.#ask(endpoint, path, call);
      } catch (error) {
        if (!(error instanceof Unreachable) || call.signal?.aborted || !resendable(error, call)) throw error;
        lost.push({ url: endpoint.url, error });
        continue;
      }
      if (answer.status !== 421) return this.#answered(endpoint, answer);
      refused = true;
      const leader = leaderOf(answer.text);
      if (leader === null || followed) continue;
      const target = this.#endpoints.reach(leader.url);
      if (asked.has(target.url)) continue;
      followed = true;
      asked.add(target.url);
      const again = await this.#ask(target, path, call).catch((error: unknown) => {
        throw error instanceof Unreachable
          ? new Unreachable(`${target.url} (the leader, as ${endpoint.url} says)`, error.cause)
          : error;
      });
      if (again.status !== 421) return this.#answered(target, again);
    }
    if (refused) throw new RemoteError(421, 'PULLOVER_NOT_LEADER', NO_LEADER);
    if (lost.length === 1) throw lost[0]?.error;
    const each = lost.map(({ url, error }) => new Error(`${url}: ${describeCause(error.cause)}`));
    throw new Unreachable('any URL given', new AggregateError(each));
  }

  #answered(endpoint: Endpoint, answer: Answer): Answer {
    this.#preferred = endpoint;
    return answer;
  }

  /** One exchange; a controller that cannot be asked, or a proxy that says so, is Unreachable. */
  async #ask(endpoint: Endpoint, path: string, call: Exchange): Promise<Answer> {
    const headers = { ...call.headers, authorization: `Bearer ${endpoint.token}` };
    let answer: { status: number; text: string };
    try {
      answer = await exchange(`${endpoint.url}${path}`, endpoint.transport, { ...call, headers });
    } catch (error) {
      throw new Unreachable(endpoint.url, error);
    }
    if (GATEWAY_STATUSES.includes(answer.status) && !ErrorBody.safeParse(parseJson(answer.text)).success) {
      const text = answer.text.slice(0, 200);
      throw new Unreachable(endpoint.url, new Error(`HTTP ${answer.status} from a proxy in between: ${text}`));
    }
    return { ...answer, url: endpoint.url };
  }
}

/** A read may go anywhere; a write only where it cannot have been delivered before. */
function resendable(error: Unreachable, call: Exchange): boolean {
  return call.method === 'GET' || error.cause instanceof NotConnected;
}

function leaderOf(text: string): LeaderRef | null {
  const body = ErrorBody.safeParse(parseJson(text));
  return body.success ? (body.data.leader ?? null) : null;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
