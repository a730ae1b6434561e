import type { Server } from '@pullover/sandbox';

/** Samples every server's read_only every `everyMs`; remembers any moment two were writable at once. */
export class WritablePoller {
  readonly twoWritable: { at: number; servers: string[] }[] = [];
  samples = 0;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();

  constructor(
    private readonly servers: Pick<Server, 'name' | 'isRunning' | 'isPaused' | 'variable'>[],
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
