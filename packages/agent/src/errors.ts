// Every error the agent raises on purpose: a stable code and the fact an operator needs to act.

/** One or more config problems, one per line, each `file: key.path: what is wrong`. */
export class ConfigError extends Error {
  readonly code = 'AGENT_CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** The controller's answer cannot be used; the hosts file was not touched. */
export class MappingRefusedError extends Error {
  readonly code = 'MAPPING_REFUSED';
  constructor(
    readonly controller: string,
    reason: string,
  ) {
    super(`refused the mapping from ${controller}: ${reason}; the hosts file is unchanged`);
    this.name = 'MappingRefusedError';
  }
}

/** The controller could not be asked (connection, timeout, HTTP status); we stay fail-static. */
export class ControllerUnavailableError extends Error {
  readonly code = 'CONTROLLER_UNAVAILABLE';
  constructor(
    readonly controller: string,
    reason: string,
  ) {
    super(`controller ${controller} unavailable: ${reason}`);
    this.name = 'ControllerUnavailableError';
  }
}

/** An older mapping than the one already applied: a stale controller or a replayed response. */
export class RollbackRefusedError extends Error {
  readonly code = 'ROLLBACK_REFUSED';
  constructor(
    readonly offered: number,
    readonly applied: number,
    detail = `version ${offered} is older than the applied version ${applied}`,
  ) {
    super(
      `refused ${detail} (a stale controller or a replayed response); keeping the hosts file as it is. `
      + 'If the controller state was deliberately reset, delete the agent state file to accept it.',
    );
    this.name = 'RollbackRefusedError';
  }
}

/** The agent's own state file is unreadable or corrupt: we cannot tell which version we applied. */
export class AgentStateError extends Error {
  readonly code = 'AGENT_STATE_INVALID';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`agent state ${file}: ${reason}`);
    this.name = 'AgentStateError';
  }
}

export type HostsFileErrorCode = 'HOSTS_READ_FAILED' | 'HOSTS_WRITE_FAILED';

/** The hosts file could not be read or replaced; the message says whether it was left unchanged. */
export class HostsFileError extends Error {
  constructor(
    readonly code: HostsFileErrorCode,
    readonly path: string,
    message: string,
    /** The underlying errno (`ENOSPC`, `EACCES`, …) when there is one. */
    readonly errno?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HostsFileError';
  }
}
