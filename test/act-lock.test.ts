import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServerClaimed } from '../packages/controller/src/errors.js';
import { SOLE_AUTHORITY } from '../packages/controller/src/ha/authority.js';
import { actLock, claimServer, lockName } from '../packages/controller/src/mysql/act-lock.js';
import { MysqlSession } from '../packages/controller/src/mysql/session.js';
import { type Cluster, REPO_ROOT, startCluster } from './support/mariadb.js';

// The act lock on real MariaDB: taken free, held, taken over from a live or a frozen holder (whose
// connection must be gone, so nothing it still sends lands), or refused while the holder keeps it.

const CLUSTER = 'main';
const TIMEOUT_MS = 5000;

describe('act lock (GET_LOCK) on real MariaDB', () => {
  let cluster: Cluster;
  const sessions: MysqlSession[] = [];
  let frozen: ChildProcessWithoutNullStreams | undefined;

  beforeAll(async () => {
    cluster = await startCluster({ id: 63 });
  });
  afterAll(() => cluster?.destroy());
  afterEach(async () => {
    if (frozen?.pid !== undefined && frozen.exitCode === null) {
      process.kill(frozen.pid, 'SIGCONT');
      process.kill(frozen.pid, 'SIGKILL');
    }
    frozen = undefined;
    await Promise.all(sessions.splice(0).map((s) => s.close()));
  });

  async function open(): Promise<MysqlSession> {
    const server = cluster.server('mysql2');
    const { user, password } = cluster.admin;
    const endpoint = { name: server.name, host: server.address, port: server.port, user, password };
    const session = await MysqlSession.open(endpoint, TIMEOUT_MS);
    sessions.push(session);
    return session;
  }

  async function holderOfLock(session: MysqlSession): Promise<number | null> {
    const [row] = await session.query<{ h: string | null }[]>({ sql: 'SELECT IS_USED_LOCK(?) AS h', values: [lockName(CLUSTER)] });
    return row?.h === null || row?.h === undefined ? null : Number(row.h);
  }

  const claim = (session: MysqlSession, mode: 'take-over' | 'refuse-if-held') =>
    claimServer(session, { cluster: CLUSTER, mode, timeoutMs: TIMEOUT_MS });

  /** Counts the statements a session sends while `fn` runs. */
  async function counting<T>(session: MysqlSession, fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
    const query = session.query.bind(session);
    let statements = 0;
    session.query = ((...args: Parameters<typeof query>) => {
      statements++;
      return query(...args);
    }) as typeof session.query;
    try {
      return { result: await fn(), statements };
    } finally {
      session.query = query;
    }
  }

  it('takes a free lock, then finds it held with one statement', async () => {
    const session = await open();
    expect(await claim(session, 'refuse-if-held')).toEqual({ kind: 'free' });
    expect(await holderOfLock(await open())).toBe(session.connectionId);
    for (const mode of ['refuse-if-held', 'take-over'] as const) {
      const again = await counting(session, () => claim(session, mode));
      expect(again).toEqual({ result: { kind: 'held' }, statements: 1 });
    }
  });

  it('take-over kills the holder\'s connection and holds the lock', async () => {
    const holder = await open();
    expect((await claim(holder, 'take-over')).kind).toBe('free');
    const actor = await open();
    const started = performance.now();
    const outcome = await claim(actor, 'take-over');
    const tookMs = performance.now() - started;
    console.log(`take-over of a live idle holder: ${tookMs.toFixed(1)} ms in all, ${JSON.stringify(outcome)}`);
    expect(outcome).toEqual({
      kind: 'taken-over',
      from: {
        connectionId: holder.connectionId,
        account: expect.stringMatching(/^pullover@127\.[\d.]+:\d+$/),
        idleS: expect.any(Number),
      },
      releasedAfterMs: expect.any(Number),
    });
    expect(await holderOfLock(actor)).toBe(actor.connectionId);
    // The killed connection is gone: whatever its controller sends next fails.
    await expect(holder.query('SELECT 1')).rejects.toThrow();
    expect(holder.usable).toBe(false);
  });

  it('take-over kills a holder inside a long statement just the same', async () => {
    const holder = await open();
    await claim(holder, 'take-over');
    // A deposed leader waiting in a statement (read_only behind a long write, say): SLEEP stands in.
    const busy = holder.query('SELECT SLEEP(20)', 30_000).then(() => 'finished', () => 'failed');
    const actor = await open();
    await expect.poll(async () => {
      const [row] = await actor.query<{ c: string }[]>({ sql: 'SELECT command AS c FROM information_schema.processlist WHERE id = ?', values: [holder.connectionId] });
      return row?.c;
    }).toBe('Query');
    const started = performance.now();
    const outcome = await claim(actor, 'take-over');
    console.log(`take-over of a holder inside SELECT SLEEP(20): ${(performance.now() - started).toFixed(1)} ms in all, ${JSON.stringify(outcome)}`);
    expect(outcome).toMatchObject({ kind: 'taken-over', from: { connectionId: holder.connectionId } });
    expect(outcome.kind === 'taken-over' && outcome.from.idleS).toBe(undefined);
    expect(await holderOfLock(actor)).toBe(actor.connectionId);
    expect(await busy).toBe('failed');
  });

  it('refuse-if-held throws ServerClaimed naming the holder, which keeps the lock', async () => {
    const holder = await open();
    await claim(holder, 'refuse-if-held');
    const second = await open();
    const refusal = await claim(second, 'refuse-if-held').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ServerClaimed);
    const error = refusal as ServerClaimed;
    expect(error.code).toBe('PULLOVER_SERVER_CLAIMED');
    expect(error.statusCode).toBe(409);
    expect(error.message).toMatch(new RegExp(
      `^another pullover controller holds mysql2 for cluster main \\(connection ${holder.connectionId}, pullover@127\\.[\\d.]+:\\d+, idle \\d+ s\\); `
      + `stop the other controller, or, if none runs any more, KILL ${holder.connectionId} on mysql2 `,
    ));
    expect(await holderOfLock(second)).toBe(holder.connectionId);
    expect(await holder.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('a frozen holder (its process SIGSTOPped, its connection alive) is taken over; after the thaw nothing it sends lands', async () => {
    const server = cluster.server('mysql2');
    frozen = spawn(process.execPath, ['--input-type=module', '-e', HOLDER_SCRIPT], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        HOST: server.address,
        PORT: String(server.port),
        USER: cluster.admin.user,
        PASSWORD: cluster.admin.password,
        LOCK: lockName(CLUSTER),
      },
    });
    const lines = createInterface({ input: frozen.stdout })[Symbol.asyncIterator]();
    const next = async () => String((await lines.next()).value);
    const holderId = Number((await next()).replace(/^holding /, ''));
    expect(holderId).toBeGreaterThan(0);
    process.kill(frozen.pid as number, 'SIGSTOP');

    const actor = await open();
    expect(await holderOfLock(actor)).toBe(holderId);
    const started = performance.now();
    const outcome = await claim(actor, 'take-over');
    const tookMs = performance.now() - started;
    console.log(`take-over of a frozen holder: ${tookMs.toFixed(1)} ms in all, ${JSON.stringify(outcome)}`);
    expect(outcome).toMatchObject({ kind: 'taken-over', from: { connectionId: holderId } });
    expect(await holderOfLock(actor)).toBe(actor.connectionId);
    const [gone] = await actor.query<{ n: number }[]>({ sql: 'SELECT COUNT(*) AS n FROM information_schema.processlist WHERE id = ?', values: [holderId] });
    expect(Number(gone?.n)).toBe(0);

    process.kill(frozen.pid as number, 'SIGCONT');
    const thawedAt = performance.now();
    frozen.stdin.write('after-take-over\n');
    const answer = await next();
    console.log(`the thawed holder's write: ${answer} after ${(performance.now() - thawedAt).toFixed(0)} ms`);
    expect(answer).toMatch(/^failed /);
    const [landed] = await actor.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.writes WHERE v = \'after-take-over\'');
    expect(Number(landed?.n)).toBe(0);
    expect(await holderOfLock(actor)).toBe(actor.connectionId);
  });

  it('alone with a state dir: a session left by this controller\'s previous process is taken over, a stray controller\'s is not', async () => {
    const lines: string[] = [];
    const log = (line: { message: string }) => lines.push(line.message);
    const previous = actLock(CLUSTER, SOLE_AUTHORITY, 'app1:/var/lib/pullover', log);
    const restarted = actLock(CLUSTER, SOLE_AUTHORITY, 'app1:/var/lib/pullover', log);
    const stray = actLock(CLUSTER, SOLE_AUTHORITY, 'app2:/var/lib/pullover', log);
    const [left, mine, theirs] = [await open(), await open(), await open()];
    await previous(left, TIMEOUT_MS);
    // The previous process died mid-statement: its connection still holds both locks.
    await expect(stray(theirs, TIMEOUT_MS)).rejects.toBeInstanceOf(ServerClaimed);
    await restarted(mine, TIMEOUT_MS);
    const left2 = await left.query('SELECT 1').then(() => 'alive', () => 'gone');
    expect({ holder: await holderOfLock(mine), left: left2 }).toEqual({ holder: mine.connectionId, left: 'gone' });
    await expect(stray(theirs, TIMEOUT_MS)).rejects.toBeInstanceOf(ServerClaimed);
    expect(lines).toEqual([]);
  });
});

// A controller in a process of its own: it takes the lock, says so, and on each stdin line tries a
// write on the same connection (as a thawed ex-leader would go on with its step).
const HOLDER_SCRIPT = `
import { createConnection } from 'mysql2/promise';
import { createInterface } from 'node:readline';
const { HOST, PORT, USER, PASSWORD, LOCK } = process.env;
const conn = await createConnection({ host: HOST, port: Number(PORT), user: USER, password: PASSWORD });
conn.on('error', () => {});
const [[row]] = await conn.query('SELECT GET_LOCK(?, 0) AS got, CONNECTION_ID() AS id', [LOCK]);
if (Number(row.got) !== 1) throw new Error('lock not taken');
console.log('holding ' + row.id);
for await (const line of createInterface({ input: process.stdin })) {
  try {
    await conn.query({ sql: 'INSERT INTO app.writes (v) VALUES (?)', values: [line], timeout: 2000 });
    console.log('landed');
  } catch (error) {
    console.log('failed ' + (error.code ?? error.message));
  }
}
conn.destroy();
`;
