import { describe, expect, it } from 'vitest';
import type { ReplicaStatus } from '../src/mysql/dialect.js';
import { type Heard, lostBySilence, noteHeard, silenceLimitMs } from '../src/topology/silence.js';
import { replicaStatus } from './helpers.js';

// Successive looks at one replica of 10.0.0.1, a heartbeat every second unless said otherwise.
// Each look: milliseconds on the controller's monotonic clock, and what it found.

const MASTER = '10.0.0.1';
const connected = (received: number, over: Partial<ReplicaStatus> = {}): ReplicaStatus =>
  replicaStatus(MASTER, { heartbeats: { received, periodMs: 1000 }, receivedGtid: '0-1-10', ...over });

type Look = [atMs: number, replica: ReplicaStatus | null];

/** Runs the looks through noteHeard; the silence (ms) that the last one says lost the master, or undefined. */
function lastVerdict(looks: readonly Look[]): number | undefined {
  let heard: Heard | undefined;
  let verdict: number | undefined;
  for (const [atMs, replica] of looks) {
    heard = noteHeard(heard, replica, atMs);
    verdict = lostBySilence(heard, replica, atMs);
  }
  return verdict;
}

describe('silence as evidence', () => {
  it.each<[string, Look[], number | undefined]>([
    ['an idle master: a new heartbeat at every look', [[0, connected(1)], [1000, connected(2)], [2000, connected(3)], [3000, connected(4)]], undefined],
    ['a busy master: heartbeats stop, the position moves', [[0, connected(5)], [1000, connected(5, { receivedPosition: 'mysql-bin.000001:2000' })], [2000, connected(5, { receivedPosition: 'mysql-bin.000001:3000' })]], undefined],
    ['GTIDs arriving count as news', [[0, connected(5)], [1000, connected(5, { receivedGtid: '0-1-11' })], [2000, connected(5, { receivedGtid: '0-1-12' })]], undefined],
    ['one late heartbeat is within the slack (1.5 s for a 1 s period)', [[0, connected(7)], [1400, connected(7)]], undefined],
    ['frozen: nothing new for 1.6 s', [[0, connected(7)], [600, connected(7)], [1600, connected(7)]], 1600],
    ['frozen for 3 s, looked at every 100 ms at the end', [[0, connected(7)], [1000, connected(7)], [2900, connected(7)], [3000, connected(7)]], 3000],
    ['silence counts from the last news, not from the first look', [[0, connected(7)], [1000, connected(8)], [2000, connected(8)], [2600, connected(8)]], 1600],
    ['a reconnect (heartbeat count back to 0) is news', [[0, connected(7)], [1000, connected(0)], [2000, connected(0)]], undefined],
    ['repointed to another master: watched afresh', [[0, connected(7)], [1000, connected(7, { masterHost: '10.0.0.2' })], [2000, connected(7, { masterHost: '10.0.0.2' })]], undefined],
    ['IO thread reconnecting: not this rule\'s business (the detector counts it lost by itself)', [[0, connected(7)], [3000, connected(7, { io: 'connecting' })]], undefined],
    ['replication stopped by hand: no evidence either way', [[0, connected(7)], [3000, connected(7, { io: 'no' })]], undefined],
    ['the IO thread stopped, then started again: watched afresh', [[0, connected(7)], [500, connected(7, { io: 'no' })], [2500, connected(7)]], undefined],
    ['no heartbeat figures (could not be read): never silent', [[0, replicaStatus(MASTER)], [5000, replicaStatus(MASTER)]], undefined],
    ['replicates from nobody', [[0, null], [5000, null]], undefined],
    ['MariaDB\'s default period (30 s) needs 45 s of silence', [[0, connected(7, { heartbeats: { received: 7, periodMs: 30_000 } })], [44_000, connected(7, { heartbeats: { received: 7, periodMs: 30_000 } })]], undefined],
  ])('%s', (_name, looks, expected) => {
    expect(lastVerdict(looks)).toBe(expected);
  });

  it('allows half a period of lateness, at least 0.5 s', () => {
    expect(silenceLimitMs(1000)).toBe(1500);
    expect(silenceLimitMs(200)).toBe(700);
    expect(silenceLimitMs(30_000)).toBe(45_000);
  });
});
