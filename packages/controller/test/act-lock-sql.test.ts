import { format } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { ServerClaimed } from '../src/errors.js';
import { claimStatements, LOCK_NAME_MAX, lockName } from '../src/mysql/act-lock.js';
import type { Statement } from '../src/mysql/dialect.js';

// The statements as the server receives them (mysql2 interpolates client-side): the same on MariaDB
// and MySQL 8, which runs nowhere here.
const sent = (s: Statement) => format(s.sql, (s.values ?? []) as (string | number)[]);

describe('lockName', () => {
  it('is pullover:<cluster> while that fits in 64 chars', () => {
    expect(lockName('main')).toBe('pullover:main');
    const longest = 'c'.repeat(LOCK_NAME_MAX - 'pullover:'.length);
    expect(lockName(longest)).toBe(`pullover:${longest}`);
  });

  it('keeps a long name\'s head and hashes the whole name into its tail, within 64 chars', () => {
    const name = `${'a'.repeat(100)}.x`;
    const lock = lockName(name);
    expect(lock).toHaveLength(LOCK_NAME_MAX);
    expect(lock).toMatch(/^pullover:a{38}~[0-9a-f]{16}$/);
    // A Name goes up to 128 chars; two that share their head still get two locks.
    expect(lockName('b'.repeat(128))).toHaveLength(LOCK_NAME_MAX);
    expect(lockName(`${'a'.repeat(100)}.y`)).not.toBe(lock);
    expect(lockName('c'.repeat(56))).not.toBe(lockName(`${'c'.repeat(55)}`));
  });
});

describe('claimStatements', () => {
  const sql = claimStatements('main');

  it.each([
    ['who holds it', sql.holder, 'SELECT IS_USED_LOCK(\'pullover:main\') AS holder'],
    ['take it without waiting', sql.take, 'SELECT GET_LOCK(\'pullover:main\', 0) AS got'],
    [
      'describe the holder',
      sql.describe(123),
      'SELECT user, host, command, time FROM information_schema.processlist WHERE id = 123',
    ],
  ])('%s', (_what, statement, expected) => {
    expect(sent(statement)).toBe(expected);
  });

  it('kills the whole connection, and only a connection id', () => {
    expect(sql.kill(123)).toBe('KILL CONNECTION 123');
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60]) expect(() => sql.kill(bad)).toThrow('not a connection id');
  });
});

describe('ServerClaimed', () => {
  it('names the server, the cluster and the holder, and says what to do', () => {
    const error = new ServerClaimed('main', 'mysql2', { connectionId: 123, account: 'pullover@127.0.0.1:40312', idleS: 37 });
    expect(error.code).toBe('PULLOVER_SERVER_CLAIMED');
    expect(error.statusCode).toBe(409);
    expect(error.message).toBe(
      'another pullover controller holds mysql2 for cluster main (connection 123, pullover@127.0.0.1:40312, idle 37 s); '
      + 'stop the other controller, or, if none runs any more, KILL 123 on mysql2 '
      + '(a connection left behind ends by itself after wait_timeout)',
    );
    const raced = new ServerClaimed('main', 'mysql2', { connectionId: 9 }, 'it took the lock after pullover killed connection 8');
    expect(raced.message).toContain('holds mysql2 for cluster main (connection 9): it took the lock after pullover killed connection 8; stop');
  });
});
