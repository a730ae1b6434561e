// The nemesis's hands: each action of a schedule done to real processes (by PID, through the
// sandbox and the rig) and to the network (exact tc rules), and the healing that always follows.
import { NetworkCut } from '@pullover/sandbox';

export class Faults {
  /** What was done, when (Date.now()), and how it went: the run's fault log. */
  log = [];
  #cuts = new Map();
  #chains = new Map();

  constructor(cluster, rig) {
    this.cluster = cluster;
    this.rig = rig;
  }

  /**
   * Does `action` in turn with earlier actions on the same target (a start waits for its kill), but
   * without waiting for others: a mariadbd start takes a second, and the controller's kill is due now.
   */
  schedule(action) {
    const target = action.server ?? action.agent ?? 'controller';
    const previous = this.#chains.get(target) ?? Promise.resolve();
    const next = previous.then(() => this.#do(action));
    this.#chains.set(target, next.catch(() => undefined));
    return next;
  }

  async settled() {
    await Promise.all(this.#chains.values());
  }

  async #do(action) {
    const at = Date.now();
    const entry = { at, action, ms: 0, error: undefined };
    this.log.push(entry);
    try {
      await this.#act(action);
    } catch (err) {
      entry.error = err.message;
      throw err;
    } finally {
      entry.ms = Date.now() - at;
    }
  }

  async #act(action) {
    const server = action.server && this.cluster.server(action.server);
    switch (action.do) {
      case 'kill': return server.kill('SIGKILL');
      case 'start': return server.start();
      case 'pause': return server.pause();
      case 'resume': return server.resume();
      case 'cut': return this.#cut(server).cut();
      case 'heal': return this.#cut(server).heal();
      // As root over the socket: the SQL thread stops, the IO thread keeps receiving (and acknowledging).
      case 'stop-sql-thread': return server.query('STOP SLAVE SQL_THREAD', [], { as: 'root' });
      // A server promoted meanwhile has no replication to start: the error says so, nothing to heal.
      case 'start-sql-thread': return server.query('START SLAVE SQL_THREAD', [], { as: 'root' }).catch(() => undefined);
      case 'kill-controller': return this.rig.killController();
      case 'start-controller': return this.rig.startController();
      case 'kill-agent': return this.rig.killAgent(action.agent);
      case 'start-agent': return this.rig.restartAgent(action.agent);
      default: throw new Error(`unknown action ${action.do}`);
    }
  }

  #cut(server) {
    let cut = this.#cuts.get(server.name);
    if (!cut) this.#cuts.set(server.name, (cut = new NetworkCut(server.address)));
    return cut;
  }

  /** Whatever a failed or interrupted run left: links up, frozen servers continued, dead ones started. */
  async healAll() {
    await this.settled().catch(() => undefined);
    for (const cut of this.#cuts.values()) cut.heal();
    for (const s of this.cluster.servers) {
      if (s.isPaused) s.resume();
      if (!s.isRunning) await s.start();
    }
  }
}
