/**
 * Every error the agent raises on purpose. Each has a stable `code` (the log lines carry it and
 * scripts branch on it, so a code is never renamed) and a message with the fact an operator needs.
 */

/** Stable codes and what they mean. A test fails when a class uses a code missing from this table. */
export const AGENT_ERROR_CODES = {
  AGENT_CONFIG_INVALID:
    'agent.yaml or a file it names is unreadable or invalid; every line names the file, the key and the problem.',
  AGENT_USAGE: 'The command line is wrong (unknown command or flag, no --config).',
  MAPPING_REFUSED:
    'The controller\'s answer cannot be used (not JSON, invalid, too large); the hosts file was not touched.',
  CONTROLLER_UNAVAILABLE:
    'The controller could not be asked (connection, timeout, HTTP status); the hosts file keeps the last mapping.',
  ROLLBACK_REFUSED:
    'A mapping older than the one applied (a stale controller or a replayed answer); the hosts file was not touched.',
  VERSION_CONFLICT:
    'A mapping with the applied version but another term or content: two leaders committed one version, which should never happen; the applied one is kept.',
  AGENT_STATE_INVALID:
    'The agent\'s state file is unreadable or corrupt: the applied version is unknown, so nothing is applied.',
  AGENT_STATE_WRITE_FAILED: 'The agent\'s state could not be saved; the hosts file was not touched.',
  HOSTS_READ_FAILED: 'The hosts file cannot be read (missing, unreadable, not UTF-8).',
  HOSTS_WRITE_FAILED: 'The hosts file could not be replaced; the message says whether it was left unchanged.',
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

export class AgentError extends Error {
  readonly code: AgentErrorCode;

  constructor(code: AgentErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One or more config problems, one per line, each `file: key.path: what is wrong`. */
export class ConfigError extends AgentError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('AGENT_CONFIG_INVALID', problems.join('\n'));
    this.problems = problems;
  }
}

export class UsageError extends AgentError {
  constructor(message: string) {
    super('AGENT_USAGE', message);
  }
}

/** The controller's answer cannot be used; the hosts file was not touched. */
export class MappingRefusedError extends AgentError {
  readonly controller: string;

  constructor(controller: string, reason: string) {
    super('MAPPING_REFUSED', `refused the mapping from ${controller}: ${reason}; the hosts file is unchanged`);
    this.controller = controller;
  }
}

/** What a controller answered instead of the mapping or the report's 204. */
export interface RefusalAnswer {
  readonly status: number;
  /** The controller's stable code from the error body (PULLOVER_NOT_LEADER, PULLOVER_BUSY, …). */
  readonly code?: string | undefined;
  /** From a 503's Retry-After: the controller is overloaded or restarting and says when to come back. */
  readonly retryAfterMs?: number | undefined;
}

/** The controller could not be asked (connection, timeout, HTTP status); we stay fail-static. */
export class ControllerUnavailableError extends AgentError {
  readonly controller: string;
  /** Set when the controller answered with an HTTP status; unset for a connection failure or a timeout. */
  readonly answer: RefusalAnswer | undefined;

  constructor(controller: string, reason: string, answer?: RefusalAnswer) {
    super('CONTROLLER_UNAVAILABLE', `controller ${controller} unavailable: ${reason}`);
    this.controller = controller;
    this.answer = answer;
  }

  get retryAfterMs(): number | undefined {
    return this.answer?.retryAfterMs;
  }
}

/** An older mapping than the one already applied: a stale controller or a replayed response. */
export class RollbackRefusedError extends AgentError {
  readonly offered: number;
  readonly applied: number;

  constructor(offered: number, applied: number, detail = `version ${offered} is older than the applied version ${applied}`) {
    super(
      'ROLLBACK_REFUSED',
      `refused ${detail} (a stale controller or a replayed response); keeping the hosts file as it is. `
      + 'If the controller state was deliberately reset, delete the agent state file to accept it.',
    );
    this.offered = offered;
    this.applied = applied;
  }
}

/**
 * The applied version offered again with another term or other entries. Versions are committed
 * once, in order, whoever leads: a controller serves an old copy of the state, or two leaders
 * committed one version. The first one applied stays; the operator must find out which controller is wrong.
 */
export class VersionConflictError extends AgentError {
  readonly version: number;

  /** `offered`, `applied`: where each came from, e.g. "(term 12) from https://c2:7420". */
  constructor(version: number, offered: string, applied: string) {
    super(
      'VERSION_CONFLICT',
      `version ${version} ${offered} comes with other entries or another term than the applied version ${version} ${applied} `
      + '(a controller whose state was restored from an old copy, or two leaders that committed one version): keeping the applied one',
    );
    this.version = version;
  }
}

/** The agent's own state file is unreadable or corrupt: we cannot tell which version we applied. */
export class AgentStateError extends AgentError {
  readonly file: string;

  constructor(file: string, reason: string) {
    super('AGENT_STATE_INVALID', `agent state ${file}: ${reason}`);
    this.file = file;
  }
}

/** The new floor could not be saved: applying the mapping anyway would lose it at the next restart. */
export class AgentStateWriteError extends AgentError {
  readonly file: string;

  /** `what`: what failed, naming the file or directory. */
  constructor(file: string, what: string, options?: ErrorOptions) {
    super('AGENT_STATE_WRITE_FAILED', `${what}; the hosts file is not touched`, options);
    this.file = file;
  }
}

/** The hosts file could not be read or replaced; the message says whether it was left unchanged. */
export class HostsFileError extends AgentError {
  readonly path: string;
  /** The underlying errno (`ENOSPC`, `EACCES`, …) when there is one. */
  readonly errno: string | undefined;

  constructor(
    code: 'HOSTS_READ_FAILED' | 'HOSTS_WRITE_FAILED',
    path: string,
    message: string,
    errno?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.path = path;
    this.errno = errno;
  }
}
