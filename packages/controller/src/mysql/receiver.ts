import type { MysqlSession } from './session.js';

// Stopping replication must not wait on a hung master. An IO thread blocked on a silent socket
// (a frozen or black-holed master) ignores STOP SLAVE's first signal and is signalled again only
// after 2 s; killing its connection ends it at once, and the STOP that follows finds it gone.

/** Ends the IO thread's connection to its master, if it has one; a thread that ended meanwhile is not an error. */
async function killReceivers(session: MysqlSession, timeoutMs: number): Promise<void> {
  const rows = await session.query<{ id: string | number }[]>(session.dialect.receiverConnections, timeoutMs);
  for (const { id } of rows) await session.query(`KILL CONNECTION ${Number(id)}`, timeoutMs).catch(() => undefined);
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
