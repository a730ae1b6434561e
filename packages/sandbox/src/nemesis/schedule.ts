// The fault schedule of one run, drawn from its seed alone: the same seed replays the same faults
// at the same moments. The fault model is an operator's: at most one data-bearing server lost at a
// time, and every fault healed (process restarted, SIGCONT, link up) before the final check.
import { Prng } from './prng.js';

export const FAULT_KINDS = [
  'kill-master',
  'pause-master',
  'cut-master',
  'kill-replica',
  'kill-controller',
  'stop-agent',
  'stopped-sql-thread',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type Action =
  | { do: 'kill' | 'start' | 'pause' | 'resume' | 'cut' | 'heal' | 'stop-sql-thread' | 'start-sql-thread'; server: string }
  | { do: 'kill-agent' | 'start-agent'; agent: string }
  | { do: 'kill-controller' | 'start-controller' };

export interface Step {
  /** Milliseconds after the schedule begins. */
  at: number;
  action: Action;
  /** The master is lost here (killed, frozen, cut off): the time to a new master counts from it. */
  losesMaster?: true;
}

export interface Schedule {
  seed: number;
  kind: FaultKind;
  /** Writes under a healthy master before the first step. */
  leadMs: number;
  /** How the controller treats a former master that answers again. */
  rejoin: 'auto' | 'manual';
  /** How it treats a master that answers read_only (restarted before anything was promoted). */
  restartRecovery: 'auto' | 'manual';
  steps: Step[];
}

const MASTER = 'mysql1';
const CANDIDATE = 'mysql2';
// Before the failover (~3 s after the master is lost), during it, or long after it.
const HEAL = [500, 15_000] as const;

export function drawSchedule(seed: number, force?: FaultKind): Schedule {
  const rng = new Prng(seed);
  // Drawn even when forced: a seed gives the same moments with and without --fault.
  const drawn = rng.pick(FAULT_KINDS);
  const kind = force ?? drawn;
  const leadMs = rng.between(1000, 2500);
  const rejoin = rng.pick(['auto', 'manual'] as const);
  const steps: Step[] = [];
  const add = (at: number, action: Action) => steps.push({ at, action });
  const lose = (at: number, action: Action) => steps.push({ at, action, losesMaster: true });
  switch (kind) {
    case 'kill-master':
      lose(0, { do: 'kill', server: MASTER });
      add(rng.between(...HEAL), { do: 'start', server: MASTER });
      break;
    case 'pause-master':
      lose(0, { do: 'pause', server: MASTER });
      add(rng.between(...HEAL), { do: 'resume', server: MASTER });
      break;
    case 'cut-master':
      lose(0, { do: 'cut', server: MASTER });
      add(rng.between(...HEAL), { do: 'heal', server: MASTER });
      break;
    case 'kill-replica': {
      const server = rng.pick([CANDIDATE, 'mysql3']);
      add(0, { do: 'kill', server });
      add(rng.between(500, 10_000), { do: 'start', server });
      break;
    }
    case 'kill-controller': {
      // The master killed, frozen or cut off, and the controller killed while it fails over, or after.
      const [loss, heal] = rng.pick([['kill', 'start'], ['pause', 'resume'], ['cut', 'heal']] as const);
      lose(0, { do: loss, server: MASTER });
      add(rng.between(...HEAL), { do: heal, server: MASTER });
      // While it fails over, or in the 5 s after: a SIGKILLed master's failover is over within
      // 600 ms, a silent one's within about 10 s.
      const failover = loss === 'kill' ? 600 : 10_000;
      const killAt = rng.next() < 0.5 ? rng.between(0, failover) : rng.between(failover, failover + 5000);
      add(killAt, { do: 'kill-controller' });
      add(killAt + rng.between(200, 5000), { do: 'start-controller' });
      break;
    }
    case 'stop-agent': {
      const agent = rng.pick(['app1', 'app2']);
      const killAt = rng.between(0, 1000);
      add(0, { do: 'kill-agent', agent });
      lose(killAt, { do: 'kill', server: MASTER });
      add(killAt + rng.between(...HEAL), { do: 'start', server: MASTER });
      add(rng.between(2000, 20_000), { do: 'start-agent', agent });
      break;
    }
    case 'stopped-sql-thread': {
      // Writes pile up in mysql2's relay log, unapplied, before the master dies.
      const killAt = rng.between(300, 2000);
      add(0, { do: 'stop-sql-thread', server: CANDIDATE });
      lose(killAt, { do: 'kill', server: MASTER });
      add(killAt + rng.between(...HEAL), { do: 'start', server: MASTER });
      add(killAt + rng.between(...HEAL), { do: 'start-sql-thread', server: CANDIDATE });
      break;
    }
  }
  steps.sort((a, b) => a.at - b.at);
  // Drawn last: the moments of a seed stay what they were before this draw existed.
  const restartRecovery = rng.pick(['auto', 'manual'] as const);
  return { seed, kind, leadMs, rejoin, restartRecovery, steps };
}

/** "kill mysql1@0 start mysql1@7.3s · rejoin manual, restart_recovery auto": the schedule in a few words. */
export function describeSchedule(schedule: Schedule): string {
  const words = schedule.steps.map(({ at, action }) => {
    const who = 'server' in action ? ` ${action.server}` : 'agent' in action ? ` ${action.agent}` : '';
    return `${action.do}${who}@${(at / 1000).toFixed(1)}s`;
  });
  return `${words.join(' ')} · rejoin ${schedule.rejoin}, restart_recovery ${schedule.restartRecovery}`;
}
