import type { LeaderRef } from '@pullover/protocol';

/**
 * Every error the controller raises on purpose. Each has a stable `code` (clients, scripts and the
 * CLI branch on it, so a code is never renamed) and, for the HTTP API, the status it answers with.
 * Messages carry the fact an operator needs to act: which file, which key, which server, what to do.
 */

/** Stable codes and what they mean. A test fails when a class uses a code missing from this table. */
export const ERROR_CODES = {
  PULLOVER_CONFIG:
    'The config file is unreadable or invalid; every line names the file, the key path and the problem.',
  PULLOVER_USAGE: 'The command line is wrong (unknown command or flag, missing argument).',
  PULLOVER_STATE:
    'The state dir cannot be used as it is (unreadable, corrupt, or inconsistent with the config); it is left untouched.',
  PULLOVER_STATE_WRITE: 'The new state could not be saved durably; nothing was changed or published.',
  PULLOVER_BAD_REQUEST: 'A parameter, query or body failed validation; the message names the field.',
  PULLOVER_UNAUTHORIZED: 'No bearer token, or a token that is in neither token file.',
  PULLOVER_FORBIDDEN: 'An agent token was used on an admin endpoint.',
  PULLOVER_WRONG_AGENT:
    'An agent token was used under a name that is not its own: another agent\'s, or one auth.agent_tokens_file does not hold.',
  PULLOVER_NOT_FOUND: 'No such endpoint.',
  PULLOVER_UNKNOWN_CLUSTER: 'The cluster is not in the config.',
  PULLOVER_UNKNOWN_SERVER: 'The server is not in the cluster.',
  PULLOVER_NOT_ELIGIBLE: 'The server is marked no_master and cannot become the master.',
  PULLOVER_FAILOVER_REFUSED:
    'A failover was not started: the master answers, one is already running, or no server can replace it; the message says which.',
  PULLOVER_SWITCHOVER_REFUSED:
    'A switchover was not started: a pre-check failed (the message lists each); nothing was changed.',
  PULLOVER_TOO_MANY_AGENTS: 'The controller already tracks the maximum number of agent names.',
  PULLOVER_INTERNAL: 'A bug in the controller; the log has the stack trace.',
  PULLOVER_CLOSING: 'The controller is shutting down; retry against it (or another one) later.',
  PULLOVER_BUSY:
    'The controller is overloaded and sheds new work (agents\' reports); retry after the Retry-After header\'s seconds.',
  PULLOVER_UNREACHABLE: 'The CLI could not get an answer from the controller.',
  PULLOVER_BAD_RESPONSE: 'The controller answered something that failed validation.',
  PULLOVER_REMOTE: 'The controller refused the request; the message is its own.',
  PULLOVER_NOT_LEADER:
    'This controller does not lead (any more): its lease ended or another controller leads; it stopped acting and wrote nothing.',
  PULLOVER_ETCD: 'etcd did not answer on any endpoint within the retry budget, or refused the request; the message says which.',
  PULLOVER_DEPOSED:
    'This controller lost the leadership while the request ran: what it had changed is journaled, and the next leader finishes or undoes it; see history and events.',
  PULLOVER_NOT_SERVING:
    'This controller has been cut off from etcd for longer than the lease: its mapping may be stale, so it holds no long-poll; agents move to another controller.',
  PULLOVER_SERVER_CLAIMED:
    'Another controller holds the MySQL-side lock on a server (GET_LOCK) and this one may not take it over; nothing was changed on that server.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class PulloverError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
  }
}

/** One or more config problems, one per line, each `file: key.path: what is wrong`. */
export class ConfigError extends PulloverError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('PULLOVER_CONFIG', 500, problems.join('\n'));
    this.problems = problems;
  }
}

export class UsageError extends PulloverError {
  constructor(message: string) {
    super('PULLOVER_USAGE', 400, message);
  }
}

export class StateError extends PulloverError {
  constructor(message: string, options?: ErrorOptions) {
    super('PULLOVER_STATE', 500, message, options);
  }
}

export class StateWriteError extends PulloverError {
  constructor(message: string, options?: ErrorOptions) {
    super('PULLOVER_STATE_WRITE', 500, message, options);
  }
}

export class BadRequest extends PulloverError {
  constructor(message: string) {
    super('PULLOVER_BAD_REQUEST', 400, message);
  }
}

export class Unauthorized extends PulloverError {
  constructor(message: string) {
    super('PULLOVER_UNAUTHORIZED', 401, message);
  }
}

export class Forbidden extends PulloverError {
  constructor(message: string) {
    super('PULLOVER_FORBIDDEN', 403, message);
  }
}

/** A token spoke for an agent it does not belong to (403): `owner` names the token's own agent, for the log. */
export class WrongAgent extends PulloverError {
  readonly owner: string;
  readonly claimed: string;

  constructor(owner: string, claimed: string, known: boolean) {
    super(
      'PULLOVER_WRONG_AGENT',
      403,
      `this token speaks for ${owner} only, not for ${claimed}${known ? '' : ' (no agent of that name has a token)'}`,
    );
    this.owner = owner;
    this.claimed = claimed;
  }
}

export class NotFound extends PulloverError {
  constructor(message: string) {
    super('PULLOVER_NOT_FOUND', 404, message);
  }
}

export class UnknownCluster extends PulloverError {
  constructor(cluster: string, known: readonly string[]) {
    super('PULLOVER_UNKNOWN_CLUSTER', 404, `unknown cluster ${cluster} (clusters: ${known.join(', ')})`);
  }
}

export class UnknownServer extends PulloverError {
  constructor(cluster: string, server: string, known: readonly string[]) {
    super(
      'PULLOVER_UNKNOWN_SERVER',
      404,
      `cluster ${cluster} has no server ${server} (servers: ${known.join(', ')})`,
    );
  }
}

export class NotEligible extends PulloverError {
  constructor(cluster: string, server: string) {
    super(
      'PULLOVER_NOT_ELIGIBLE',
      409,
      `${server} is marked no_master in cluster ${cluster}; remove no_master from its entry in the config and restart the controller first`,
    );
  }
}

export class FailoverRefused extends PulloverError {
  constructor(cluster: string, why: string) {
    super('PULLOVER_FAILOVER_REFUSED', 409, `no failover of ${cluster}: ${why}`);
  }
}

export class SwitchoverRefused extends PulloverError {
  readonly checks: readonly string[];

  constructor(cluster: string, problems: readonly string[], checks: readonly string[]) {
    super('PULLOVER_SWITCHOVER_REFUSED', 409, `no switchover of ${cluster}: ${problems.join('; ')}`);
    this.checks = checks;
  }
}

export class TooManyAgents extends PulloverError {
  constructor(limit: number) {
    super(
      'PULLOVER_TOO_MANY_AGENTS',
      429,
      `the controller already tracks ${limit} agent names; restart it to forget agents that are gone`,
    );
  }
}

export class ControllerClosing extends PulloverError {
  constructor() {
    super('PULLOVER_CLOSING', 503, 'the controller is shutting down');
  }
}

/** Answered to new work while the controller is behind (a herd of agents); polls are never shed. */
export class ControllerBusy extends PulloverError {
  readonly retryAfterS: number;

  constructor(retryAfterS: number) {
    super('PULLOVER_BUSY', 503, `the controller is overloaded; retry after ${retryAfterS} s`);
    this.retryAfterS = retryAfterS;
  }
}

export class Unreachable extends PulloverError {
  constructor(url: string, cause: unknown) {
    super('PULLOVER_UNREACHABLE', 502, `cannot reach the controller at ${url}: ${describeCause(cause)}`, {
      cause,
    });
  }
}

export class BadResponse extends PulloverError {
  constructor(message: string) {
    super('PULLOVER_BAD_RESPONSE', 502, message);
  }
}

/** A write or action refused because this controller is not the leader; `why` names what ended the leadership. */
export class NotLeader extends PulloverError {
  /** The controller that leads now, when known: the CLI re-sends the request there. */
  readonly leader: LeaderRef | null;

  constructor(why: string, leader: LeaderRef | null = null) {
    super('PULLOVER_NOT_LEADER', 421, `not the leader: ${why}`);
    this.leader = leader;
  }
}

/**
 * A change the leader had begun when it was deposed: not refused up front (421, safe to send to
 * the leader), so never re-sent by the CLI; the next leader takes the journal up.
 */
export class Deposed extends PulloverError {
  constructor(why: string) {
    super('PULLOVER_DEPOSED', 503, `the leadership was lost while this ran (${why}): what was done is journaled and the next leader finishes or undoes it; see \`pullover-controller history\` and \`events\``);
  }
}

/** A follower cut off from etcd longer than the lease: what it would serve may be stale. */
export class NotServing extends PulloverError {
  constructor(message: string) {
    super('PULLOVER_NOT_SERVING', 503, message);
  }
}

/** etcd unreachable (every endpoint tried until the budget ran out) or an etcd refusal (`grpcCode` set). */
export class EtcdError extends PulloverError {
  readonly grpcCode: number | undefined;

  constructor(message: string, grpcCode?: number, options?: ErrorOptions) {
    super('PULLOVER_ETCD', 503, message, options);
    this.grpcCode = grpcCode;
  }
}

/** The controller's own error, relayed by the CLI. `remoteCode` is the controller's stable code. */
export class RemoteError extends PulloverError {
  readonly remoteCode: string;

  constructor(statusCode: number, remoteCode: string, message: string) {
    super('PULLOVER_REMOTE', statusCode, message);
    this.remoteCode = remoteCode;
  }
}

/** A one-line reason from any thrown value, e.g. "ECONNREFUSED 127.0.0.1:7420". */
export function describeCause(cause: unknown): string {
  if (cause instanceof AggregateError && cause.errors.length > 0) {
    return cause.errors.map(describeCause).join('; ');
  }
  if (cause instanceof PulloverError) return cause.message;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const message = cause.message || String(code ?? cause.name);
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(cause);
}

/** Who holds a server's lock, as far as the server's processlist tells. */
export interface ServerClaimHolder {
  readonly connectionId: number;
  /** user@host:port of the holding connection, when the processlist shows it. */
  readonly account?: string;
  /** Seconds the connection has been idle: a frozen controller's lock session sits idle. */
  readonly idleS?: number;
}

/** A server's act lock (see mysql/act-lock.ts) held by another controller: this one must not change it. */
export class ServerClaimed extends PulloverError {
  readonly holder: ServerClaimHolder | undefined;

  constructor(cluster: string, server: string, holder: ServerClaimHolder | undefined, why?: string) {
    const facts = holder
      ? [`connection ${holder.connectionId}`, holder.account, holder.idleS === undefined ? undefined : `idle ${holder.idleS} s`]
      : [];
    const who = facts.length > 0 ? ` (${facts.filter(Boolean).join(', ')})` : '';
    const kill = holder ? `, or, if none runs any more, KILL ${holder.connectionId} on ${server}` : '';
    const todo = `stop the other controller${kill} (a connection left behind ends by itself after wait_timeout)`;
    super('PULLOVER_SERVER_CLAIMED', 409, `another pullover controller holds ${server} for cluster ${cluster}${who}${why ? `: ${why}` : ''}; ${todo}`);
    this.holder = holder;
  }
}
