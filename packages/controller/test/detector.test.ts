import { describe, expect, it } from 'vitest';
import {
  type AgentSighting,
  detect,
  type DetectorInput,
  type MasterState,
  vetoNeeds,
} from '../src/failover/detector.js';
import type { ReplicaStatus } from '../src/mysql/dialect.js';
import type { FailureKind } from '../src/mysql/session.js';
import type { ServerObservation } from '../src/topology/observation.js';
import { expectInOrder, observation, unreachableObservation } from './helpers.js';

// The master mysql1 at 200.200.200.1 stopped answering the controller at FAILING_SINCE. Each
// scenario says what the replicas and the app servers saw, the verdict, and the parts of the
// sentence an operator must read in the log and the status.

const MASTER = '200.200.200.1';
const FAILING_SINCE = new Date('2025-01-02T03:04:05.000Z');
const REFUSED = { kind: 'refused' as const, message: `mysql1: connect ECONNREFUSED ${MASTER}:3306` };

/** A reachable replica of mysql1 whose IO thread is in state `io`. */
function replica(name: string, io: ReplicaStatus['io'], over: Partial<ReplicaStatus> = {}): ServerObservation {
  return observation(name, {
    at: new Date(FAILING_SINCE.getTime() + 2000),
    replica: {
      io,
      lastIoErrno: io === 'yes' ? 0 : 2003,
      lastIoError: io === 'yes' ? '' : `error reconnecting to master 'repl@${MASTER}:3306' - retry-time: 1 (Errno: 2003)`,
      secondsBehind: io === 'yes' ? 0 : null,
      ...over,
    },
  });
}

/** A replica the controller could not look at. */
function unreachable(name: string, kind: FailureKind, message: string): ServerObservation {
  return unreachableObservation(name, { kind, message: `${name}: ${message}` }, { at: FAILING_SINCE });
}

/** An app server's greeting check of the master, `offsetMs` after the first failed ping. */
function sighting(agent: string, reachable: boolean, offsetMs: number): AgentSighting {
  return {
    agent,
    reachable,
    checkedAt: new Date(FAILING_SINCE.getTime() + offsetMs),
    detail: reachable ? 'greeting from 10.11.6-MariaDB' : `connect ECONNREFUSED ${MASTER}:3306`,
  };
}

const lost = (name: string) => replica(name, 'connecting');
/** Connected to the master, heartbeat every second; whether it heard anything lately is the scenario's `silent`. */
const heard = (name: string) => replica(name, 'yes', { heartbeats: { received: 40, periodMs: 1000 } });

interface Scenario {
  readonly name: string;
  readonly failures?: number;
  readonly replicas?: readonly ServerObservation[];
  readonly agents?: readonly AgentSighting[];
  /** Live agents checking this master (default: as many as `agents`). */
  readonly expected?: number;
  /** Since the first failed ping (default 5 s, past the 2 s grace for the agents' answers). */
  readonly elapsedMs?: number;
  readonly masterReadOnly?: boolean;
  /** failover.agent_veto_share (default 0.5). */
  readonly share?: number;
  /** Replicas connected to it (IO Yes) that heard nothing for this long (ms), past their heartbeat period. */
  readonly silent?: Readonly<Record<string, number>>;
  readonly state: MasterState;
  /** Fragments of the sentence, in the order they appear. */
  readonly says: readonly string[];
}

const scenarios: Scenario[] = [
  {
    name: 'the master answers',
    failures: 0,
    replicas: [replica('mysql2', 'yes')],
    state: 'master-alive',
    says: ['mysql1 answers'],
  },
  {
    name: 'the master answers but came back read_only (restarted)',
    failures: 0,
    masterReadOnly: true,
    replicas: [replica('mysql2', 'yes')],
    state: 'master-read-only',
    says: ['mysql1 answers but is read_only: no server takes writes', 'pullover-controller set-writable --cluster myservice'],
  },
  {
    name: 'a read_only master that stops answering is judged as any other',
    masterReadOnly: true,
    replicas: [lost('mysql2')],
    state: 'master-dead',
    says: ['mysql1 is dead'],
  },
  {
    name: 'fewer failed pings than failuresNeeded',
    failures: 2,
    replicas: [lost('mysql2')],
    state: 'master-suspect',
    says: ['mysql1 failed 2 of 3 pings', `(connection refused: mysql1: connect ECONNREFUSED ${MASTER}:3306)`],
  },
  {
    name: 'every replica lost it (IO connecting, IO stopped on error 2003), no app server to ask',
    replicas: [lost('mysql2'), replica('mysql3', 'no')],
    state: 'master-dead',
    says: [
      'mysql1 is dead: 3 pings failed (connection refused',
      'mysql2 lost it too (IO error 2003), mysql3 lost it too (IO error 2003)',
    ],
  },
  {
    name: 'one replica lost it, the other already replicates from another server',
    replicas: [lost('mysql2'), replica('mysql3', 'yes', { masterHost: '200.200.200.2' })],
    state: 'master-dead',
    says: ['mysql1 is dead', 'mysql2 lost it too (IO error 2003)'],
  },
  {
    name: 'every replica lost it and one replica is down too',
    replicas: [lost('mysql2'), unreachable('mysql3', 'timeout', 'connect ETIMEDOUT')],
    state: 'master-dead',
    says: ['mysql1 is dead', 'mysql2 lost it too'],
  },
  {
    name: 'every app server answered since the first failure and none reaches it',
    replicas: [lost('mysql2')],
    agents: [sighting('app1', false, 500), sighting('app2', false, 1500)],
    state: 'master-dead',
    says: ['mysql1 is dead', 'mysql2 lost it too', '2 app server(s) cannot reach it either'],
  },
  {
    name: 'an app server reached it before the first failure only: stale, not counted',
    replicas: [lost('mysql2')],
    agents: [sighting('app1', true, -1)],
    state: 'master-dead',
    says: ['mysql1 is dead', 'mysql2 lost it too', 'no app server answered in 2000 ms'],
  },
  {
    name: 'some app servers did not answer within the grace',
    replicas: [lost('mysql2')],
    agents: [sighting('app1', false, 300)],
    expected: 3,
    state: 'master-dead',
    says: ['mysql1 is dead', '1 app server(s) cannot reach it either (2 did not answer in 2000 ms)'],
  },
  {
    name: 'the replicas lost it, the app servers have not answered yet',
    replicas: [lost('mysql2')],
    agents: [sighting('app1', false, 300), sighting('app2', true, -1)],
    expected: 2,
    elapsedMs: 1500,
    state: 'master-suspect',
    says: ['mysql1 failed 3 pings (connection refused', 'its replicas lost it', '(1 of 2 answered)'],
  },
  {
    name: 'a reachable replica still replicates from it (IO yes)',
    replicas: [lost('mysql2'), replica('mysql3', 'yes')],
    state: 'master-unreachable',
    says: ['the controller cannot reach mysql1 (connection refused', 'but mysql3 still replicate(s) from it: no failover'],
  },
  {
    name: 'a hung master: every replica is still connected (IO Yes) but heard nothing past its heartbeat period',
    replicas: [heard('mysql2'), heard('mysql3')],
    silent: { mysql2: 2300, mysql3: 1900 },
    state: 'master-dead',
    says: [
      'mysql1 is dead',
      'mysql2 lost it too (connected, but nothing from it for 2.3 s, heartbeat every 1 s)',
      'mysql3 lost it too (connected, but nothing from it for 1.9 s',
    ],
  },
  {
    name: 'a hung master: one replica silent, the other reconnecting',
    replicas: [heard('mysql2'), lost('mysql3')],
    silent: { mysql2: 1600 },
    state: 'master-dead',
    says: ['mysql1 is dead', 'mysql2 lost it too (connected, but nothing from it', 'mysql3 lost it too (IO error 2003)'],
  },
  {
    name: 'one replica silent, another still hears it: a partition between some replicas and the master',
    replicas: [heard('mysql2'), heard('mysql3')],
    silent: { mysql2: 5000 },
    state: 'master-unreachable',
    says: ['but mysql3 still replicate(s) from it: no failover'],
  },
  {
    name: 'silent replicas, but an app server still reaches it',
    replicas: [heard('mysql2')],
    silent: { mysql2: 5000 },
    agents: [sighting('app1', true, 700)],
    state: 'controller-isolated',
    says: ['but 1 of 1 app server(s) that answered still do (app1)'],
  },
  {
    name: 'a silent receiver says nothing while the pings still answer',
    failures: 0,
    replicas: [heard('mysql2')],
    silent: { mysql2: 5000 },
    state: 'master-alive',
    says: ['mysql1 answers'],
  },
  {
    name: 'no replica replicates from it to vouch for its death (other source, stopped by hand, nobody)',
    replicas: [
      replica('mysql2', 'yes', { masterHost: '200.200.200.9' }),
      replica('mysql3', 'no', { lastIoErrno: 0, lastIoError: '' }),
      { ...lost('mysql4'), replica: null },
    ],
    state: 'master-unreachable',
    says: [
      'no replica is replicating from it to confirm',
      'mysql2 replicates from 200.200.200.9, mysql3 has replication stopped, mysql4 replicates from nobody',
      'if it is dead, run pullover-controller failover',
    ],
  },
  {
    name: 'the master refused the replica\'s login: it is alive, not lost',
    replicas: [replica('mysql2', 'no', { lastIoErrno: 1045, lastIoError: 'Access denied for user \'repl\'' })],
    state: 'master-unreachable',
    says: ['no replica is replicating from it to confirm', 'mysql2 IO no, error 1045: Access denied for user \'repl\''],
  },
  {
    name: 'an app server checked at the very moment of the first failure and reaches it',
    replicas: [lost('mysql2')],
    agents: [sighting('app1', true, 0), sighting('app2', false, 100)],
    state: 'controller-isolated',
    says: [
      'the controller cannot reach mysql1',
      'but 1 of 2 app server(s) that answered still do (app1)',
      'the controller is cut off, no failover',
    ],
  },
  {
    name: 'app servers reach it, even though the replicas lost it',
    replicas: [lost('mysql2'), lost('mysql3')],
    agents: [sighting('app1', true, 800), sighting('app2', true, 900)],
    state: 'controller-isolated',
    says: ['2 of 2 app server(s) that answered still do (app1, app2)', 'no failover'],
  },
  {
    name: 'no replica answers the controller either',
    replicas: [unreachable('mysql2', 'timeout', 'connect ETIMEDOUT'), unreachable('mysql3', 'refused', 'connect ECONNREFUSED')],
    state: 'controller-isolated',
    says: ['the controller reaches neither mysql1', 'nor any replica (mysql2, mysql3)', 'it is cut off, no failover'],
  },
  {
    name: 'the replicas refuse the controller\'s login',
    replicas: [
      unreachable('mysql2', 'rejected', 'Access denied for user \'pullover\'@\'10.0.0.5\' (using password: YES)'),
      unreachable('mysql3', 'rejected', 'Access denied for user \'pullover\'@\'10.0.0.5\' (using password: YES)'),
    ],
    state: 'controller-isolated',
    says: [
      'cannot log in to mysql2, mysql3',
      'mysql2: Access denied for user \'pullover\'',
      'fix mysql.user and mysql.password_file',
      'no failover without the replicas\' view',
    ],
  },
];

// One app server that reaches the master (forged, or oddly placed) must not block a failover that
// the controller, the replicas and most app servers agree on: a veto needs a share of those that answered.
const reach = (...names: string[]) => names.map((n, i) => sighting(n, true, 400 + i));
const blind = (...names: string[]) => names.map((n, i) => sighting(n, false, 300 + i));

const vetoScenarios: Scenario[] = [
  {
    name: 'three answered, one reaches it: outvoted, the failover goes ahead and the sentence names it',
    replicas: [lost('mysql2')],
    agents: [...blind('app1', 'app2'), ...reach('app3')],
    state: 'master-dead',
    says: [
      'mysql1 is dead',
      '2 app server(s) cannot reach it either',
      '1 still reach(es) it (app3), too few to veto: more than 50 % of those that answered must',
    ],
  },
  {
    name: 'three answered, two reach it: a veto',
    replicas: [lost('mysql2')],
    agents: [...blind('app1'), ...reach('app2', 'app3')],
    state: 'controller-isolated',
    says: ['but 2 of 3 app server(s) that answered still do (app2, app3)', 'the controller is cut off, no failover'],
  },
  {
    name: 'four answered, two reach it: half is not more than half',
    replicas: [lost('mysql2')],
    agents: [...blind('app1', 'app2'), ...reach('app3', 'app4')],
    state: 'master-dead',
    says: ['2 app server(s) cannot reach it either', '2 still reach(es) it (app3, app4), too few to veto'],
  },
  {
    name: 'five answered, three reach it: a veto',
    replicas: [lost('mysql2')],
    agents: [...blind('app1', 'app2'), ...reach('app3', 'app4', 'app5')],
    state: 'controller-isolated',
    says: ['but 3 of 5 app server(s) that answered still do (app3, app4, app5)'],
  },
  {
    name: 'a fleet that still reaches it, in no order: five named alphabetically, the rest counted',
    replicas: [lost('mysql2')],
    agents: reach('app9', 'app3', 'app7', 'app1', 'app8', 'app2', 'app6'),
    state: 'controller-isolated',
    says: ['but 7 of 7 app server(s) that answered still do (app1, app2, app3, app6, app7 and 2 more)'],
  },
  {
    name: 'two answered, one reaches it: too few to outvote it, a veto',
    replicas: [lost('mysql2')],
    agents: [...blind('app1'), ...reach('app2')],
    state: 'controller-isolated',
    says: ['but 1 of 2 app server(s) that answered still do (app2)'],
  },
  {
    name: 'agent_veto_share 0 (any one vetoes, the first rule): five answered, one reaches it',
    replicas: [lost('mysql2')],
    agents: [...blind('app1', 'app2', 'app3', 'app4'), ...reach('app5')],
    share: 0,
    state: 'controller-isolated',
    says: ['but 1 of 5 app server(s) that answered still do (app5)'],
  },
  {
    name: 'agent_veto_share 0.75: four answered, three reach it, not more than three quarters',
    replicas: [lost('mysql2')],
    agents: [...blind('app1'), ...reach('app2', 'app3', 'app4')],
    share: 0.75,
    state: 'master-dead',
    says: ['1 app server(s) cannot reach it either', 'more than 75 % of those that answered must'],
  },
  {
    name: 'the first of three to answer reaches it: no verdict from one answer while the others may come',
    replicas: [lost('mysql2')],
    agents: reach('app1'),
    expected: 3,
    elapsedMs: 1500,
    state: 'master-suspect',
    says: ['waiting for the app servers\' view (1 of 3 answered)'],
  },
  {
    name: 'two of three answered and reach it: a veto whatever the third says',
    replicas: [lost('mysql2')],
    agents: reach('app1', 'app2'),
    expected: 3,
    elapsedMs: 1500,
    state: 'controller-isolated',
    says: ['but 2 of 2 app server(s) that answered still do (app1, app2)'],
  },
  {
    name: 'one of three answered within the grace, and reaches it: alone, it vetoes',
    replicas: [lost('mysql2')],
    agents: reach('app1'),
    expected: 3,
    state: 'controller-isolated',
    says: ['but 1 of 1 app server(s) that answered still do (app1)'],
  },
];

function input(s: Scenario): DetectorInput {
  const failures = s.failures ?? 3;
  return {
    master: { name: 'mysql1', address: MASTER, port: 3306 },
    cluster: 'myservice',
    masterReadOnly: s.masterReadOnly ?? false,
    pings:
      failures === 0
        ? { consecutiveFailures: 0 }
        : { consecutiveFailures: failures, lastFailure: REFUSED, failingSince: FAILING_SINCE },
    replicas: s.replicas ?? [],
    silentReceivers: new Map(Object.entries(s.silent ?? {})),
    agents: s.agents ?? [],
    agentsExpected: s.expected ?? s.agents?.length ?? 0,
    agentVetoShare: s.share ?? 0.5,
    elapsedMs: s.elapsedMs ?? 5000,
    agentGraceMs: 2000,
    failuresNeeded: 3,
  };
}

describe('detect', () => {
  it.each(scenarios)('$name: $state', (s) => {
    const verdict = detect(input(s));
    expect(verdict.state).toBe(s.state);
    expectInOrder(verdict.sentence, s.says);
  });

  it.each(vetoScenarios)('veto share: $name: $state', (s) => {
    const verdict = detect(input(s));
    expect(verdict.state).toBe(s.state);
    expectInOrder(verdict.sentence, s.says);
  });

  it.each([
    [1, 0.5, 1],
    [2, 0.5, 1],
    [3, 0.5, 2],
    [4, 0.5, 3],
    [5, 0.5, 3],
    [10, 0.5, 6],
    [10, 0, 1],
    [10, 0.9, 10],
    [1000, 0.5, 501],
  ])('with %i answers and share %d, %i reaching it veto', (answered, share, needed) => {
    expect(vetoNeeds(answered, share)).toBe(needed);
  });

  it('never calls the master dead while a replica still replicates from it or enough app servers still reach it', () => {
    for (const s of scenarios.filter((x) => x.state === 'master-unreachable' || x.state === 'controller-isolated')) {
      const many = detect({ ...input(s), failuresNeeded: 1, pings: { ...input(s).pings, consecutiveFailures: 100 } });
      expect(many.state, s.name).toBe(s.state);
    }
  });
});
