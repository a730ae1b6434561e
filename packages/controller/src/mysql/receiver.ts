import type { MysqlSession } from './session.js';

// Stopping replication must not wait on a hung master. An IO thread blocked on a silent socket
// (a frozen or black-holed master) can miss STOP SLAVE's signal, which is sent again only every
// 2 s; KILL can miss it the same way (seen: the thread shows "Killed" and goes on waiting), so its
// connection is killed again until the thread is gone, and the STOP that follows finds it gone.

/** How often, and how many times, a receiver that outlived its KILL is signalled again. */
const KILL_AGAIN_MS = 20;
const KILL_ATTEMPTS = 10;

/** Ends the IO thread's connection to its master, if it has one; a thread that ended meanwhile is not an error. */
async function killReceivers(session: MysqlSession, timeoutMs: number): Promise<void> {
  for (let attempt = 0; attempt < KILL_ATTEMPTS; attempt++) {
    const rows = await session.query<{ id: string | number }[]>(session.dialect.receiverConnections, timeoutMs);
    if (rows.length === 0) return;
    if (attempt > 0) await new Promise((r) => setTimeout(r, KILL_AGAIN_MS));
    for (const { id } of rows) await session.query(`KILL CONNECTION ${Number(id)}`, timeoutMs).catch(() => undefined);
  }
}

/** The replica stops receiving from its master (it goes on applying what it has). */
export async function stopReceiving(session: MysqlSession, timeoutMs: number): Promise<void> {
  await killReceivers(session, timeoutMs);
  await session.query(session.dialect.stopReceiving, timeoutMs);
}

/** Both replication threads stop: receiving first, so the STOP does not wait on the master. */
export async function stopReplication(session: MysqlSession, timeoutMs: number): Promise<void> {
  await killReceivers(session, timeoutMs);
  await session.query(session.dialect.stopReplica, timeoutMs);
}
