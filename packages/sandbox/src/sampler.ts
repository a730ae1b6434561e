import type { Connection } from 'mysql2/promise';
import type { Server } from './server.js';

/** rw: read_only=OFF; ro: read_only=ON; unknown: no answer in time (down, frozen, cut off). */
export type WritableState = 'rw' | 'ro' | 'unknown';

export interface ReadOnlySample {
  /** Date.now() when the round's answers were in. */
  at: number;
  states: Record<string, WritableState>;
}

/**
 * Asks every server for @@read_only every `everyMs`, over TCP as the controller does, each on a
 * connection of its own kept open between rounds. Keeps only the rounds that differ from the one
 * before: a run of minutes stays a short list, and a round with two writable servers is always kept.
 */
export class ReadOnlySampler {
  readonly samples: ReadOnlySample[] = [];
  rounds = 0;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();
  readonly #conns = new Map<string, Connection>();

  constructor(
    private readonly servers: Pick<Server, 'name' | 'connect'>[],
    private readonly everyMs = 50,
    private readonly timeoutMs = 300,
  ) {}

  start(): this {
    this.#done = this.#loop();
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
    for (const conn of this.#conns.values()) conn.destroy();
    this.#conns.clear();
  }

  async #loop(): Promise<void> {
    let last = '';
    while (!this.#stopped) {
      const answers = await Promise.all(this.servers.map((s) => this.#state(s)));
      const states = Object.fromEntries(this.servers.map((s, i) => [s.name, answers[i] as WritableState]));
      this.rounds++;
      const key = JSON.stringify(states);
      if (key !== last) this.samples.push({ at: Date.now(), states });
      last = key;
      await new Promise((r) => setTimeout(r, this.everyMs));
    }
  }

  async #state(server: Pick<Server, 'name' | 'connect'>): Promise<WritableState> {
    let conn = this.#conns.get(server.name);
    try {
      conn ??= await server.connect({ connectTimeoutMs: this.timeoutMs });
      this.#conns.set(server.name, conn);
      const [rows] = await conn.query({ sql: 'SELECT @@GLOBAL.read_only AS ro', timeout: this.timeoutMs });
      return Number((rows as { ro: number }[])[0]?.ro) === 0 ? 'rw' : 'ro';
    } catch {
      conn?.destroy();
      this.#conns.delete(server.name);
      return 'unknown';
    }
  }
}
