import { readFile } from 'node:fs/promises';
import { type Connection, createConnection } from 'mysql2/promise';
import { HOSTNAME, resolveInHosts } from './fleet.js';

export interface Ack {
  id: number;
  /** The address the hostname resolved to when the write was acknowledged. */
  address: string;
  at: number;
}

/**
 * An application writing through the hostname: each new connection resolves it from an app
 * server's hosts file, as glibc would. Remembers every acknowledged insert and every error.
 */
export class Writer {
  readonly acks: Ack[] = [];
  readonly errors: { at: number; address: string; message: string }[] = [];
  #stopped = false;
  #done: Promise<void> = Promise.resolve();

  constructor(
    private readonly hostsFile: string,
    private readonly port: number,
    private readonly login: { user: string; password: string },
  ) {}

  start(): void {
    this.#done = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  /** Acknowledged writes that went to `address`. */
  acksAt(address: string): Ack[] {
    return this.acks.filter((a) => a.address === address);
  }

  async #loop(): Promise<void> {
    let conn: Connection | undefined;
    let address = '';
    while (!this.#stopped) {
      try {
        if (!conn) {
          address = resolveInHosts(await readFile(this.hostsFile, 'utf8'), HOSTNAME) ?? '';
          conn = await createConnection({ host: address, port: this.port, ...this.login, connectTimeout: 1000 });
        }
        const [result] = await conn.query({ sql: 'INSERT INTO app.writes (v) VALUES (?)', values: ['w'], timeout: 3000 });
        this.acks.push({ id: (result as { insertId: number }).insertId, address, at: Date.now() });
      } catch (error) {
        this.errors.push({ at: Date.now(), address, message: (error as Error).message });
        conn?.destroy();
        conn = undefined;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await conn?.end().catch(() => undefined);
  }
}

/** Samples every server's read_only every `everyMs`; remembers any moment two were writable at once. */
export class WritablePoller {
  readonly twoWritable: { at: number; servers: string[] }[] = [];
  samples = 0;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();

  constructor(
    private readonly servers: { name: string; isRunning: boolean; isPaused: boolean; variable(name: string): Promise<string> }[],
    private readonly everyMs = 50,
  ) {}

  start(): void {
    this.#done = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const writable = await Promise.all(
        this.servers.map(async (s) => {
          if (!s.isRunning || s.isPaused) return undefined;
          const ro = await Promise.race([
            s.variable('read_only').catch(() => '1'),
            new Promise<string>((r) => setTimeout(() => r('1'), 500)),
          ]);
          return ro === '0' ? s.name : undefined;
        }),
      );
      const names = writable.filter((n): n is string => n !== undefined);
      this.samples++;
      if (names.length > 1) this.twoWritable.push({ at: Date.now(), servers: names });
      await new Promise((r) => setTimeout(r, this.everyMs));
    }
  }
}
