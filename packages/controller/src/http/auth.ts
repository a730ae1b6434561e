import { createHash, timingSafeEqual } from 'node:crypto';
import { Forbidden, Unauthorized } from '../errors.js';

/** agent: read the mapping and report. admin: everything. public: no token needed. */
export type Access = 'public' | 'agent' | 'admin';

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

  constructor(agentTokens: readonly string[], adminTokens: readonly string[]) {
    this.#agent = agentTokens.map(digest);
    this.#admin = adminTokens.map(digest);
  }

  /** Throws Unauthorized (401) or Forbidden (403) unless the Authorization header grants `access`. */
  check(access: Access, authorization: string | undefined): void {
    if (access === 'public') return;
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      throw new Unauthorized('missing bearer token: send "Authorization: Bearer TOKEN"');
    }
    const presented = digest(token);
    let admin = false;
    let agent = false;
    for (const known of this.#admin) admin = timingSafeEqual(presented, known) || admin;
    for (const known of this.#agent) agent = timingSafeEqual(presented, known) || agent;
    if (admin) return;
    if (!agent) throw new Unauthorized('unknown token: it is in neither the agent nor the admin token file');
    if (access === 'admin')
      throw new Forbidden('this endpoint needs an admin token; an agent token was sent');
  }
}
