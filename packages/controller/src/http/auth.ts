import { createHash, timingSafeEqual } from 'node:crypto';
import { Forbidden, Unauthorized } from '../errors.js';

/**
 * agent: read the mapping and report. viewer: read status, history and events (a NOC screen, the
 * status page) and nothing else. admin: everything. public: no token needed.
 */
export type Access = 'public' | 'agent' | 'viewer' | 'admin';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Bearer-token check. Tokens are compared as sha256 digests (equal lengths, so timingSafeEqual
 * applies) against every configured token without an early exit: the time taken says nothing
 * about how close a guess came or which file matched.
 */
export class TokenAuth {
  readonly #agent: readonly Buffer[];
  readonly #admin: readonly Buffer[];
  readonly #viewer: readonly Buffer[];

  constructor(agentTokens: readonly string[], adminTokens: readonly string[], viewerTokens: readonly string[] = []) {
    this.#agent = agentTokens.map(digest);
    this.#admin = adminTokens.map(digest);
    this.#viewer = viewerTokens.map(digest);
  }

  /** Throws Unauthorized (401) or Forbidden (403) unless the Authorization header grants `access`. */
  check(access: Access, authorization: string | undefined): void {
    if (access === 'public') return;
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      throw new Unauthorized('missing bearer token: send "Authorization: Bearer TOKEN"');
    }
    const presented = digest(token);
    const admin = known(presented, this.#admin);
    const viewer = known(presented, this.#viewer);
    const agent = known(presented, this.#agent);
    if (admin) return;
    if (!agent && !viewer) throw new Unauthorized('unknown token: it is in none of the agent, viewer and admin token files');
    if (access === 'agent' && !agent) throw new Forbidden('this endpoint needs an agent token; a viewer token was sent');
    if (access === 'viewer' && !viewer) throw new Forbidden('this endpoint needs a viewer or admin token; an agent token was sent');
    if (access === 'admin') throw new Forbidden(`this endpoint needs an admin token; ${viewer ? 'a viewer' : 'an agent'} token was sent`);
  }
}

/** Compares against every token without an early exit. */
function known(presented: Buffer, tokens: readonly Buffer[]): boolean {
  let found = false;
  for (const token of tokens) found = timingSafeEqual(presented, token) || found;
  return found;
}
