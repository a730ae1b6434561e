import type { Socket } from 'node:net';
import type { PublishListener } from './publisher.js';

/** Sockets given back to the event loop per turn once a publish has answered every parked poll. */
const RESUMED_PER_TURN = 250;

/**
 * While a publish answers the parked polls, the agents already answered are not read from: their
 * next poll (the acknowledgement) waits in the kernel until every agent has the new mapping. The
 * acknowledgements are bookkeeping; the mapping is what the fleet is waiting for. Read in the same
 * turns as the answers, they doubled the time until the last agent had it.
 */
export class AnswersFirst implements PublishListener {
  #answering = 0;
  readonly #held: Socket[] = [];

  published(): void {
    this.#answering++;
  }

  answered(): void {
    this.#answering--;
    if (this.#answering === 0) this.#resume(RESUMED_PER_TURN);
  }

  /** After an answer written to `socket`: not read from again until the publish is done. */
  hold(socket: Socket | null): void {
    // An injected request (tests, app.inject) has a stand-in socket that cannot pause.
    if (this.#answering === 0 || typeof socket?.pause !== 'function') return;
    socket.pause();
    this.#held.push(socket);
  }

  /** At close: every socket is read again, so that the server can end its connections. */
  releaseAll(): void {
    this.#resume(this.#held.length);
  }

  // In turns too: 10,000 acknowledgements read at once would hold the event loop as the answers did.
  #resume(count: number): void {
    for (const socket of this.#held.splice(0, count)) socket.resume();
    if (this.#held.length > 0) setImmediate(() => this.#resume(RESUMED_PER_TURN));
  }
}
