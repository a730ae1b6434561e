// A process the sandbox started (a mariadbd, an etcd member): signalled only by its PID, never by a
// name, so that nothing else on the machine is touched, and killed by the exit hooks if we die first.
import type { ChildProcess } from 'node:child_process';
import { killOnExit } from './exit.js';

export abstract class OwnedProcess {
  /** Names the process in errors. */
  abstract readonly name: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;

  get pid(): number | undefined {
    return this.isRunning ? this.#child?.pid : undefined;
  }

  /** True while the process exists, paused or not. */
  get isRunning(): boolean {
    const child = this.#child;
    // No PID: spawn itself failed ('error', never 'exit').
    return child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
  }

  get isPaused(): boolean {
    return this.isRunning && this.#paused;
  }

  /** Takes over a child just spawned (detached): from now on it is this object's process. */
  protected adopt(child: ChildProcess): void {
    // A test that forgets to stop it must not keep its worker alive; the exit hooks kill it instead.
    child.unref();
    killOnExit(child);
    this.#child = child;
    this.#paused = false;
    this.#exited = new Promise((done) => {
      child.once('exit', () => done());
      child.once('error', () => done());
    });
  }

  /** Sends `signal` by PID and waits until the process has exited. */
  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL', timeoutMs = 30_000): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    process.kill(pid, signal);
    // A stopped process only acts on SIGTERM once continued (SIGKILL ends it stopped or not).
    if (this.#paused && signal === 'SIGTERM') this.resume();
    // A ref'd timer, not an unref'd one: the child is unref'd, so with nothing else pending a script's
    // event loop would end before the exit arrives (and a top-level await would never settle).
    let timer: NodeJS.Timeout | undefined;
    const outlived = await Promise.race([
      this.#exited.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outlived) throw new Error(`${this.name} (pid ${pid}) still running ${timeoutMs} ms after ${signal}`);
  }

  /** SIGSTOP: the process keeps its sockets (connections are accepted, nothing is answered). */
  pause(): void {
    process.kill(this.#runningPid(), 'SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    process.kill(this.#runningPid(), 'SIGCONT');
    this.#paused = false;
  }

  #runningPid(): number {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`${this.name} is not running`);
    return pid;
  }
}
