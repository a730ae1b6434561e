import { readFile } from 'node:fs/promises';
import { type Connection, createConnection } from 'mysql2/promise';
import type { Credentials, Server } from './server.js';

/** The address a hosts file gives `hostname`, as glibc reads it: the first non-comment line naming it wins. */
export function addressIn(hostsFile: string, hostname: string): string | undefined {
  const wanted = hostname.toLowerCase();
  for (const line of hostsFile.split(/\r?\n/)) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length > 1 && fields.slice(1).some((name) => name.toLowerCase() === wanted)) return fields[0];
  }
  return undefined;
}

export interface AcknowledgedWrite {
  /** The row's app.writes.id, numbered by the writer: one number per attempt, never reused. */
  id: number;
  /** Where the hostname pointed when the connection that wrote it was opened. */
  address: string;
  /** Date.now() when the server's OK arrived. */
  at: number;
}

export interface WriterOptions {
  /** An app server's hosts file: the hostname is looked up in it for every new connection. */
  hostsFile: string;
  hostname: string;
  port: number;
  login: Credentials;
  /** Pause after each insert and after each failure (default 10 ms): a steady load, not a CPU hog. */
  pauseMs?: number;
}

/**
 * An application writing through the master hostname: it resolves the name from a hosts file when
 * it connects, inserts numbered rows into app.writes one at a time, remembers every insert the
 * server acknowledged, and on any error drops the connection and connects again (resolving anew).
 */
export class HostnameWriter {
  readonly acknowledged: AcknowledgedWrite[] = [];
  failures = 0;
  lastFailure = '';
  /** Date.now() of every failed attempt: when the application saw errors. */
  readonly failedAt: number[] = [];
  #nextId = 1;
  #running = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(private readonly opts: WriterOptions) {}

  start(): this {
    this.#running = true;
    this.#loop = this.#run();
    return this;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Acknowledged ids that `server`'s app.writes does not hold: lost writes, if it is the master. */
  async missingOn(server: Server): Promise<number[]> {
    const rows = await server.query<{ id: number }[]>('SELECT id FROM app.writes');
    const present = new Set(rows.map((r) => Number(r.id)));
    return this.acknowledged.map((w) => w.id).filter((id) => !present.has(id));
  }

  async #run(): Promise<void> {
    const { hostsFile, hostname, port, login, pauseMs = 10 } = this.opts;
    let conn: Connection | undefined;
    let address = '';
    while (this.#running) {
      try {
        if (conn === undefined) {
          address = addressIn(await readFile(hostsFile, 'utf8'), hostname) ?? '';
          if (!address) throw new Error(`${hostname} is not in ${hostsFile}`);
          conn = await createConnection({ host: address, port, ...login, connectTimeout: 1000 });
        }
        const id = this.#nextId++;
        await conn.query({ sql: 'INSERT INTO app.writes (id, v) VALUES (?, ?)', values: [id, address], timeout: 2000 });
        this.acknowledged.push({ id, address, at: Date.now() });
      } catch (err) {
        this.failures++;
        this.failedAt.push(Date.now());
        this.lastFailure = `${address || hostname}: ${(err as Error).message}`;
        conn?.destroy();
        conn = undefined;
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    await conn?.end().catch(() => conn?.destroy());
  }
}
