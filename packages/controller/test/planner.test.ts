import { describe, expect, it } from 'vitest';
import { plan, type PlannerInput } from '../src/failover/planner.js';
import type { ReplicaStatus } from '../src/mysql/dialect.js';
import { type Flavor, gtidContains } from '../src/mysql/gtid.js';
import { receivedGtid, type ServerObservation } from '../src/topology/observation.js';
import { expectInOrder, type ObservationChange, observation, unreachableObservation } from './helpers.js';

// mysql1, the master, is dead. Each case lists what the survivors hold (MariaDB "domain-server-seq"
// positions unless it says MySQL) and whom the planner promotes, or why nobody.

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = '4d8b564f-03f4-4975-856a-0e65c3105328';

/** mysql1 is dead: its replicas' IO threads keep trying to reconnect. */
const LOST_MASTER: Partial<ReplicaStatus> = {
  io: 'connecting',
  lastIoErrno: 2003,
  lastIoError: 'Can\'t connect to server on \'200.200.200.1\' (111)',
  secondsBehind: null,
};

/** A reachable replica of mysql1, replicating by GTID, that has received (and applied) `gtid`. */
function survivor(name: string, gtid: string, { replica, ...change }: ObservationChange = {}): ServerObservation {
  return observation(name, { gtid, ...change, replica: replica === null ? null : { ...LOST_MASTER, ...replica } });
}

/** A survivor the controller cannot look at. */
function down(name: string): ServerObservation {
  return unreachableObservation(name, { kind: 'timeout', message: `${name}: connect ETIMEDOUT` });
}

const brokenSql = { replica: { lastSqlErrno: 1062, lastSqlError: 'Duplicate entry \'7\' for key \'PRIMARY\'', sqlRunning: false } };

interface Case {
  readonly name: string;
  readonly survivors: readonly ServerObservation[];
  readonly candidates?: readonly string[];
  readonly noMaster?: readonly string[];
  /** The config's server order after mysql1 (default: the survivors' order). */
  readonly order?: readonly string[];
  readonly to?: string;
  readonly avoid?: readonly string[];
  readonly flavor?: Flavor;
  /** The promotion expected, or 'impossible'. */
  readonly expected: { target: string; donor: string | null; repoint: string[] } | 'impossible';
  /** Fragments of the plan's sentence, in order. */
  readonly says: readonly string[];
}

const promotions: Case[] = [
  {
    name: 'a candidate whose SQL thread was stopped by hand is passed over; the healthy replica is promoted',
    survivors: [survivor('mysql2', '0-1-64', { replica: { sqlRunning: false } }), survivor('mysql3', '0-1-64')],
    candidates: ['mysql2'],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql2'] },
    says: ['promote mysql3 (most advanced eligible replica, at 0-1-64); repoint mysql2'],
  },
  {
    name: 'a delayed candidate is passed over, even when it holds more in its relay log',
    survivors: [survivor('mysql2', '0-1-70', { replica: { sqlDelay: 3600 } }), survivor('mysql3', '0-1-64')],
    candidates: ['mysql2'],
    expected: { target: 'mysql3', donor: 'mysql2', repoint: ['mysql2'] },
    says: ['promote mysql3', 'after it catches up from mysql2 (at 0-1-70)'],
  },
  {
    name: 'a candidate with more than 100 MB of relay log to apply loses its preference (MHA check_repl_delay)',
    survivors: [survivor('mysql2', '0-1-64', { replica: { applyBacklogBytes: 150_000_000 } }), survivor('mysql3', '0-1-64')],
    candidates: ['mysql2'],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql2'] },
    says: ['promote mysql3 (most advanced eligible replica'],
  },
  {
    name: 'a candidate a whole binlog file behind in applying loses its preference too',
    survivors: [survivor('mysql2', '0-1-64', { replica: { applyBacklogBytes: Infinity } }), survivor('mysql3', '0-1-64')],
    candidates: ['mysql2'],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql2'] },
    says: ['promote mysql3'],
  },
  {
    name: 'the target of a failover that failed lately is tried after the others',
    survivors: [survivor('mysql2', '0-1-64'), survivor('mysql3', '0-1-64')],
    candidates: ['mysql2'],
    avoid: ['mysql2'],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql2'] },
    says: ['promote mysql3'],
  },
  {
    name: 'a candidate that would need a donor without log_slave_updates yields to the donor itself',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-101', { writesReplicatedToBinlog: false })],
    candidates: ['mysql2'],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql2'] },
    says: ['promote mysql3 (most advanced eligible replica, at 0-1-101)'],
  },
  {
    name: 'a candidate is preferred among equally advanced replicas',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-100')],
    candidates: ['mysql3'],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql2'] },
    says: ['promote mysql3 (candidate, at 0-1-100); repoint mysql2'],
  },
  {
    name: 'a candidate behind another survivor catches up from the most advanced one first',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-104'), survivor('mysql4', '0-1-105')],
    candidates: ['mysql2'],
    expected: { target: 'mysql2', donor: 'mysql4', repoint: ['mysql3', 'mysql4'] },
    says: ['promote mysql2 (candidate, at 0-1-100)', 'after it catches up from mysql4 (at 0-1-105)', 'repoint mysql3, mysql4'],
  },
  {
    name: 'a no_master replica holding the last transaction is the donor, never the target',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-101')],
    noMaster: ['mysql3'],
    expected: { target: 'mysql2', donor: 'mysql3', repoint: ['mysql3'] },
    says: ['promote mysql2 (most advanced eligible replica, at 0-1-100)', 'after it catches up from mysql3 (at 0-1-101)'],
  },
  {
    name: 'without an eligible candidate, the most advanced other replica',
    survivors: [survivor('mysql2', '0-1-100', brokenSql), survivor('mysql3', '0-1-102'), survivor('mysql4', '0-1-103')],
    candidates: ['mysql2'],
    expected: { target: 'mysql4', donor: null, repoint: ['mysql2', 'mysql3'] },
    says: ['promote mysql4 (most advanced eligible replica, at 0-1-103); repoint mysql2, mysql3'],
  },
  {
    name: 'an unreachable candidate is passed over and not repointed',
    survivors: [down('mysql2'), survivor('mysql3', '0-1-100'), survivor('mysql4', '0-1-100')],
    candidates: ['mysql2'],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql4'] },
    says: ['promote mysql3', 'repoint mysql4'],
  },
  {
    name: 'equal replicas: the config order decides',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-100'), survivor('mysql4', '0-1-100')],
    order: ['mysql4', 'mysql3', 'mysql2'],
    expected: { target: 'mysql4', donor: null, repoint: ['mysql2', 'mysql3'] },
    says: ['promote mysql4'],
  },
  {
    name: 'equal candidates: the config order decides',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-100')],
    candidates: ['mysql2', 'mysql3'],
    order: ['mysql3', 'mysql2'],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql2'] },
    says: ['promote mysql3 (candidate'],
  },
  {
    name: 'a server further on after an earlier failover (higher seq, new server id) holds the older ones',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-2-101')],
    candidates: ['mysql2'],
    expected: { target: 'mysql2', donor: 'mysql3', repoint: ['mysql3'] },
    says: ['after it catches up from mysql3 (at 0-2-101)'],
  },
  {
    name: 'manual: the named server, even behind a candidate',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-101')],
    candidates: ['mysql3'],
    to: 'mysql2',
    expected: { target: 'mysql2', donor: 'mysql3', repoint: ['mysql3'] },
    says: ['promote mysql2', 'after it catches up from mysql3'],
  },
  {
    name: 'MySQL: a candidate missing transactions in the relay log of another catches up from it',
    flavor: 'mysql',
    survivors: [survivor('mysql2', `${U1}:1-100`), survivor('mysql3', `${U1}:1-107`)],
    candidates: ['mysql2'],
    expected: { target: 'mysql2', donor: 'mysql3', repoint: ['mysql3'] },
    says: [`promote mysql2 (candidate, at ${U1}:1-100) after it catches up from mysql3 (at ${U1}:1-107)`],
  },
  {
    name: 'MySQL: the most advanced set wins among non-candidates',
    flavor: 'mysql',
    survivors: [survivor('mysql2', `${U1}:1-90`), survivor('mysql3', `${U1}:1-100,${U2}:1-3`)],
    expected: { target: 'mysql3', donor: null, repoint: ['mysql2'] },
    says: ['promote mysql3 (most advanced eligible replica'],
  },
];

const refusals: Case[] = [
  {
    name: 'a no_master replica alone holds the last transactions but writes no binlog of them',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-101', { writesReplicatedToBinlog: false })],
    noMaster: ['mysql3'],
    expected: 'impossible',
    says: ['no server can replace mysql1 without losing transactions: mysql3 alone holds 0-1-101 but writes no binlog of what it replicates (log_slave_updates=OFF); mysql2 lack(s) them'],
  },
  {
    name: 'manual onto a server that lacks what only a non-donor holds',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-101', { writesReplicatedToBinlog: false })],
    to: 'mysql2',
    expected: 'impossible',
    says: ['cannot promote mysql2: mysql3 alone holds 0-1-101 but writes no binlog'],
  },
  {
    name: 'manual onto a no_master server',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-100')],
    noMaster: ['mysql3'],
    to: 'mysql3',
    expected: 'impossible',
    says: ['cannot promote mysql3: it is marked no_master'],
  },
  {
    name: 'manual onto an unreachable server',
    survivors: [survivor('mysql2', '0-1-100'), down('mysql3')],
    to: 'mysql3',
    expected: 'impossible',
    says: ['cannot promote mysql3: it is unreachable (mysql3: connect ETIMEDOUT)'],
  },
  {
    name: 'manual onto a server that is not a survivor',
    survivors: [survivor('mysql2', '0-1-100')],
    to: 'mysql9',
    expected: 'impossible',
    says: ['cannot promote mysql9: it is not a survivor of this cluster'],
  },
  {
    name: 'manual onto a server with a broken SQL thread',
    survivors: [survivor('mysql2', '0-1-100', brokenSql), survivor('mysql3', '0-1-100')],
    to: 'mysql2',
    expected: 'impossible',
    says: ['cannot promote mysql2: it has a broken SQL thread (error 1062: Duplicate entry \'7\''],
  },
  {
    name: 'no survivor is reachable',
    survivors: [down('mysql2'), down('mysql3')],
    expected: 'impossible',
    says: ['no survivor of mysql1 is reachable; nothing to promote'],
  },
  {
    name: 'every survivor is no_master',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-100')],
    noMaster: ['mysql2', 'mysql3'],
    expected: 'impossible',
    says: ['no server can replace mysql1: mysql2 is marked no_master; mysql3 is marked no_master'],
  },
  {
    name: 'the only eligible-looking survivor has a broken SQL thread, the other is down',
    survivors: [survivor('mysql2', '0-1-100', brokenSql), down('mysql3')],
    expected: 'impossible',
    says: [
      'no server can replace mysql1: mysql2 has a broken SQL thread (error 1062: Duplicate entry \'7\' for key \'PRIMARY\')',
      'mysql3 is unreachable',
    ],
  },
  {
    name: 'the survivor does not replicate by GTID',
    survivors: [survivor('mysql2', '0-1-100', { replica: { usesGtid: false } })],
    expected: 'impossible',
    says: ['mysql2 does not replicate by GTID'],
  },
  {
    name: 'the survivor is not a replica',
    survivors: [survivor('mysql2', '0-1-100', { replica: null })],
    expected: 'impossible',
    says: ['mysql2 is not a replica'],
  },
  {
    name: 'MariaDB: the same seq from two servers is two histories',
    survivors: [survivor('mysql2', '0-2-100'), survivor('mysql3', '0-3-100')],
    candidates: ['mysql2'],
    expected: 'impossible',
    says: [
      'mysql3 (0-3-100) and mysql2 (0-2-100) have diverged',
      'resolve the errant transactions by hand, then run pullover-controller failover --to NAME',
    ],
  },
  {
    name: 'MariaDB: a no_master replica with errant transactions blocks it too',
    survivors: [survivor('mysql2', '0-1-100'), survivor('mysql3', '0-1-99,1-3-5')],
    noMaster: ['mysql3'],
    to: 'mysql2',
    expected: 'impossible',
    says: ['mysql3 (0-1-99,1-3-5) and mysql2 (0-1-100) have diverged'],
  },
  {
    name: 'MySQL: errant transactions on one replica, more of the master\'s on the other',
    flavor: 'mysql',
    survivors: [survivor('mysql2', `${U1}:1-100,${U2}:1-2`), survivor('mysql3', `${U1}:1-101`)],
    expected: 'impossible',
    says: [`mysql3 (${U1}:1-101) and mysql2 (${U1}:1-100,${U2}:1-2) have diverged`],
  },
];

function input(c: Case): PlannerInput {
  const order = c.order ?? c.survivors.map((o) => o.name);
  return {
    oldMaster: 'mysql1',
    flavor: c.flavor ?? 'mariadb',
    servers: ['mysql1', ...order].map((name) => ({
      name,
      candidate: c.candidates?.includes(name) ?? false,
      no_master: c.noMaster?.includes(name) ?? false,
    })),
    survivors: c.survivors,
    to: c.to,
    avoid: c.avoid ?? [],
  };
}

describe('plan', () => {
  it.each([...promotions, ...refusals])('$name', (c) => {
    const decided = plan(input(c));
    if (c.expected === 'impossible') {
      expect(decided.kind).toBe('impossible');
    } else {
      expect(decided).toMatchObject({ kind: 'promote', ...c.expected });
    }
    expectInOrder(decided.sentence, c.says);
  });

  it('the target, or else its donor, holds every transaction of every reachable survivor', () => {
    for (const c of promotions) {
      const decided = plan(input(c));
      if (decided.kind !== 'promote') throw new Error(`${c.name}: ${decided.sentence}`);
      const source = c.survivors.find((o) => o.name === (decided.donor ?? decided.target));
      for (const o of c.survivors.filter((x) => x.reachable)) {
        expect(gtidContains(c.flavor ?? 'mariadb', receivedGtid(source as ServerObservation), receivedGtid(o)), `${c.name}: ${o.name}`).toBe(true);
      }
    }
  });
});
