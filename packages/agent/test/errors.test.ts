import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors.js';

describe('errors', () => {
  const instances: errors.AgentError[] = [
    new errors.ConfigError(['agent.yaml: wait: missing']),
    new errors.UsageError('u'),
    new errors.MappingRefusedError('http://c', 'not JSON'),
    new errors.ControllerUnavailableError('http://c', 'ECONNREFUSED'),
    new errors.RollbackRefusedError(6, 7),
    new errors.VersionConflictError(7, '(term 12) from https://c2', '(term 11) from https://c1'),
    new errors.AgentStateError('/s/agent-state.json', 'corrupt'),
    new errors.AgentStateWriteError('/s/agent-state.json', 'cannot write /s/agent-state.json: ENOSPC'),
    new errors.HostsFileError('HOSTS_READ_FAILED', '/etc/hosts', 'cannot read /etc/hosts: EACCES'),
    new errors.HostsFileError('HOSTS_WRITE_FAILED', '/etc/hosts', 'cannot write /etc/hosts: ENOSPC'),
  ];

  it('every error class uses a documented code, and every documented code is used', () => {
    const classes = Object.values(errors).filter(
      (value) => typeof value === 'function' && value.prototype instanceof errors.AgentError,
    );
    expect(new Set(instances.map((e) => e.constructor))).toEqual(new Set(classes));
    for (const error of instances) {
      expect(errors.AGENT_ERROR_CODES).toHaveProperty(error.code);
      expect(error.name).toBe(error.constructor.name);
    }
    expect(new Set(instances.map((e) => e.code))).toEqual(new Set(Object.keys(errors.AGENT_ERROR_CODES)));
  });

  it('says what the operator needs: what was refused, and that the hosts file was not touched', () => {
    expect(new errors.RollbackRefusedError(6, 7).message).toMatch(
      /^refused version 6 is older than the applied version 7 .*delete the agent state file to accept it\.$/,
    );
    expect(new errors.AgentStateWriteError('/s/a.json', 'cannot create /s: ENOTDIR').message).toBe(
      'cannot create /s: ENOTDIR; the hosts file is not touched',
    );
  });
});
