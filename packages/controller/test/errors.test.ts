import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors.js';

describe('errors', () => {
  const instances: errors.PulloverError[] = [
    new errors.ConfigError(['f: k: bad']),
    new errors.UsageError('u'),
    new errors.StateError('s'),
    new errors.StateWriteError('w'),
    new errors.BadRequest('b'),
    new errors.Unauthorized('u'),
    new errors.Forbidden('f'),
    new errors.WrongAgent('app1', 'app2', true),
    new errors.NotFound('n'),
    new errors.UnknownCluster('c', ['a']),
    new errors.UnknownServer('c', 's', ['a']),
    new errors.NotEligible('c', 's'),
    new errors.FailoverRefused('c', 'why'),
    new errors.SwitchoverRefused('c', ['why'], []),
    new errors.TooManyAgents(1),
    new errors.ControllerClosing(),
    new errors.ControllerBusy(2),
    new errors.Unreachable('http://x', new Error('boom')),
    new errors.BadResponse('r'),
    new errors.RemoteError(404, 'X', 'm'),
    new errors.NotLeader('lease expired'),
    new errors.EtcdError('down'),
    new errors.NotServing('cut off'),
    new errors.Deposed('lease lost'),
    new errors.ServerClaimed('main', 'mysql2', { connectionId: 123 }),
  ];

  it('every error class uses a documented code', () => {
    const classes = Object.values(errors).filter(
      (value) => typeof value === 'function' && value.prototype instanceof errors.PulloverError,
    );
    expect(new Set(instances.map((e) => e.constructor))).toEqual(new Set(classes));
    for (const error of instances) {
      expect(errors.ERROR_CODES).toHaveProperty(error.code);
      expect(error.name).toBe(error.constructor.name);
    }
  });

  it('HTTP errors carry their status', () => {
    expect(new errors.UnknownServer('c', 's', []).statusCode).toBe(404);
    expect(new errors.Unauthorized('x').statusCode).toBe(401);
    expect(new errors.Forbidden('x').statusCode).toBe(403);
    expect(new errors.NotEligible('c', 's').statusCode).toBe(409);
    expect(new errors.FailoverRefused('c', 'why').statusCode).toBe(409);
    expect(new errors.ControllerClosing().statusCode).toBe(503);
  });

  it('describes causes in one line', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(errors.describeCause(refused)).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(errors.describeCause(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(
      'ECONNRESET: socket hang up',
    );
    expect(errors.describeCause(new errors.StateError('plain'))).toBe('plain');
  });
});
