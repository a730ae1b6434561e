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

/** A stretch of rounds in which two or more servers answered read_only=OFF. */
export interface TwoWritableWindow {
  at: number;
  ms: number;
  rounds: number;
  writable: string[];
  /** Those of them that did not answer in the round before: a server that had just come back. */
  back: string[];
}

/**
 * The windows with two writable servers. A server that comes back (thawed, link up) answers as it
 * was left, writable, until the controller reaches and fences it: whoever looks first sees it, so
 * a short window whose writable servers include one just back is the overlap the invariant allows.
 * The last kept round lasts until `end`.
 */
export function twoWritableWindows(samples: readonly ReadOnlySample[], end: number): TwoWritableWindow[] {
  const windows: TwoWritableWindow[] = [];
  for (let i = 0; i < samples.length; i++) {
    if (writableIn(samples[i]!).length < 2) continue;
    let j = i;
    while (j + 1 < samples.length && writableIn(samples[j + 1]!).length > 1) j++;
    const first = samples[i]!;
    const writable = writableIn(first);
    windows.push({
      at: first.at,
      ms: (samples[j + 1]?.at ?? end) - first.at,
      rounds: j - i + 1,
      writable,
      back: writable.filter((n) => samples[i - 1]?.states[n] === 'unknown'),
    });
    i = j;
  }
  return windows;
}

function writableIn(sample: ReadOnlySample): string[] {
  return Object.entries(sample.states).filter(([, v]) => v === 'rw').map(([n]) => n);
}
