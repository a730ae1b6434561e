import { createHash, timingSafeEqual } from 'node:crypto';
import type { AgentTokens } from '../config/tokens.js';
import { Forbidden, Unauthorized, WrongAgent } from '../errors.js';
import type { LogLine } from '../log-line.js';

/**
 * agent: read the mapping and report. viewer: read status, history and events (a NOC screen, the
 * status page) and nothing else. admin: everything. public: no token needed.
 */
export type Access = 'public' | 'agent' | 'viewer' | 'admin';

/**
 * Who sent a request. An agent's `owner` is the name its token belongs to; undefined for a token
 * of a bare line (the first format): such an agent is unbound, and its reports never veto.
 */
export type Caller =
  | { readonly role: 'public' | 'viewer' | 'admin' }
  | { readonly role: 'agent'; readonly owner: string | undefined };

/**
 * Whether the caller spoke for an agent with that agent's own token. Anything else (a bare-line
 * token, an admin's) shows in status, but its word never vetoes a failover.
 */
export function isBound(caller: Caller): boolean {
  return caller.role === 'agent' && caller.owner !== undefined;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The agent tokens as they are looked up: by name, and (to name a wrong token's owner) by digest. */
interface AgentIndex {
  readonly byName: ReadonlyMap<string, Buffer>;
  /** Hex digest → the owner's name, or the bare line's number. */
  readonly byDigest: ReadonlyMap<string, { readonly name?: string; readonly line: number }>;
}

function indexAgents(tokens: AgentTokens): AgentIndex {
  const byName = new Map<string, Buffer>();
  const byDigest = new Map<string, { name?: string; line: number }>();
  for (const { name, token, line } of tokens.lines) {
    const d = digest(token);
    if (name !== undefined) byName.set(name, d);
    byDigest.set(d.toString('hex'), { line, ...(name !== undefined ? { name } : {}) });
  }
  return { byName, byDigest };
}

export interface TokenSets {
  readonly agents: AgentTokens;
  readonly admin: readonly string[];
  readonly viewer?: readonly string[];
}

/**
 * Bearer-token check. Tokens are compared as sha256 digests (equal lengths, so timingSafeEqual
 * applies). Admin and viewer tokens, a handful, are each compared without an early exit. An agent
 * token is looked up by the name it speaks for and compared once: 10,000 agents must not mean
 * 10,000 compares per poll. A request that names no agent (a poll without acknowledgement), or a
 * token that is not the named agent's, is looked up by its digest: a map keyed by sha256 of the
 * presented token, whose timing says nothing about any real token.
 */
export class TokenAuth {
  #agents: AgentIndex;
  /**
   * Per connection, the last header it was let in with: an agent's keep-alive connection sends the
   * same one with every poll, and a sha256 per request was 5% of a publish to 10,000 agents. Only
   * the connection that proved the token skips the check; another file of tokens forgets them all.
   */
  #passed = new WeakMap<object, Passed>();
  readonly #admin: readonly Buffer[];
  readonly #viewer: readonly Buffer[];

  constructor(sets: TokenSets) {
    this.#agents = indexAgents(sets.agents);
    this.#admin = sets.admin.map(digest);
    this.#viewer = (sets.viewer ?? []).map(digest);
  }

  /** The agent tokens file changed: requests from now on are checked against `agents`. */
  replaceAgents(agents: AgentTokens): void {
    this.#agents = indexAgents(agents);
    this.#passed = new WeakMap();
  }

  /**
   * Throws Unauthorized (401), Forbidden (403), or WrongAgent (403) when the token speaks for an
   * agent (`speaksFor`) it does not belong to, unless the Authorization header grants `access`.
   */
  check(access: Access, authorization: string | undefined, speaksFor?: string, connection?: object): Caller {
    if (access === 'public') return { role: 'public' };
    const passed = connection === undefined ? undefined : this.#passed.get(connection);
    if (passed !== undefined && passed.authorization === authorization) {
      if (passed.access === access && passed.speaksFor === speaksFor) return passed.caller;
    }
    const caller = this.#check(access, authorization, speaksFor);
    if (connection !== undefined && authorization !== undefined) {
      this.#passed.set(connection, { authorization, access, speaksFor, caller });
    }
    return caller;
  }

  #check(access: Access, authorization: string | undefined, speaksFor: string | undefined): Caller {
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      throw new Unauthorized('missing bearer token: send "Authorization: Bearer TOKEN"');
    }
    const presented = digest(token);
    if (known(presented, this.#admin)) return { role: 'admin' };
    const viewer = known(presented, this.#viewer);
    const agent = viewer ? undefined : this.#agent(presented, speaksFor);
    if (!agent && !viewer) throw new Unauthorized('unknown token: it is in none of the agent, viewer and admin token files');
    if (access === 'agent' && !agent) throw new Forbidden('this endpoint needs an agent token; a viewer token was sent');
    if (access === 'viewer' && !viewer) throw new Forbidden('this endpoint needs a viewer or admin token; an agent token was sent');
    if (access === 'admin') throw new Forbidden(`this endpoint needs an admin token; ${viewer ? 'a viewer' : 'an agent'} token was sent`);
    return agent ?? { role: 'viewer' };
  }

  #agent(presented: Buffer, speaksFor: string | undefined): Caller | undefined {
    const { byName, byDigest } = this.#agents;
    const own = speaksFor === undefined ? undefined : byName.get(speaksFor);
    if (own !== undefined && timingSafeEqual(presented, own)) return { role: 'agent', owner: speaksFor };
    const holder = byDigest.get(presented.toString('hex'));
    if (holder === undefined) return undefined;
    if (speaksFor !== undefined && (holder.name !== undefined || own !== undefined)) {
      throw new WrongAgent(holder.name ?? `the unbound token of line ${holder.line}`, speaksFor, own !== undefined);
    }
    return { role: 'agent', owner: holder.name };
  }
}

interface Passed {
  readonly authorization: string;
  readonly access: Access;
  readonly speaksFor: string | undefined;
  readonly caller: Caller;
}

/** Compares against every token without an early exit. */
function known(presented: Buffer, tokens: readonly Buffer[]): boolean {
  let found = false;
  for (const token of tokens) found = timingSafeEqual(presented, token) || found;
  return found;
}

/**
 * The log line of a refused impersonation, once a minute per token owner and claimed name: a
 * leaked token replayed in a loop must not flood the journal, but the first attempt is always told.
 */
export class RefusalLog {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(readonly now: () => number = Date.now) {}

  line(error: WrongAgent, remote: string): LogLine | undefined {
    const key = `${error.owner}\n${error.claimed}`;
    const now = this.now();
    const last = this.#last.get(key);
    if (last && now - last.at < 60_000) {
      last.suppressed++;
      return undefined;
    }
    if (this.#last.size > 10_000) this.#last.clear(); // a bound on memory, not a policy
    this.#last.set(key, { at: now, suppressed: 0 });
    const more = last?.suppressed ? ` (and ${last.suppressed} more such requests in the last minute)` : '';
    return {
      level: 'warn',
      message: `refused a request from ${remote} as agent ${error.claimed} with the token of ${error.owner}${more}: a token speaks only for its own agent; a leaked token?`,
    };
  }
}
