import type { AgentReport } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { AgentRegistry } from '../src/agents/registry.js';
import { FleetLog } from '../src/events/fleet-log.js';
import { createLogSink } from '../src/log-sink.js';
import { reportReaching } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const report = (version: number, reachable = true) => reportReaching(version, reachable, '2026-11-24T03:00:00.000Z');

/** A fleet of `size` agents at version 1, its FleetLog, and every line logged (level, message). */
function fleet(size: number, times = { windowMs: 100, rolloutMs: 60_000 }) {
  const logged: { level: number; msg: string }[] = [];
  const sink = createLogSink({ level: 'debug', stream: { write: (l: string) => void logged.push(JSON.parse(l)) } }, () => new Date());
  const registry = new AgentRegistry();
  const log = new FleetLog(sink, registry, () => new Date(), times);
  for (let i = 1; i <= size; i++) registry.record(`app${i}`, report(1), '10.0.0.1');
  const heard = (name: string, r: AgentReport) => log.heard(name, r.applied_version, registry.record(name, r, '10.0.0.1'));
  const said = () => sink.events.since(0).events.map((e) => `${e.level} ${e.message}`);
  const debug = () => logged.filter((l) => l.level === 20).map((l) => l.msg);
  return { log, heard, said, debug, registry };
}

describe('FleetLog: a published version', () => {
  it('is one line once every live agent applied it; each agent at debug only', () => {
    const { log, heard, said, debug } = fleet(3);
    log.published(2);
    log.answered(2, 3, 12);
    heard('app1', report(2));
    heard('app2', report(2));
    expect(said()).toEqual([]);
    heard('app3', report(2));
    const answered = '\\(the parked polls had their answer within 12 ms\\)';
    expect(said()).toEqual([expect.stringMatching(new RegExp(`^info 3 of 3 agents applied version 2 in \\d+ ms ${answered}$`))]);
    expect(debug()).toEqual(['agent app1 applied version 2', 'agent app2 applied version 2', 'agent app3 applied version 2']);
  });

  it('counts the agents another controller heard apply it (several controllers on etcd)', () => {
    const { log, heard, said, registry } = fleet(2);
    log.published(2);
    heard('app1', report(2));
    const app2 = registry.get('app2')!;
    registry.absorb([{ ...app2, report: report(2), received_at: new Date(Date.now() + 1000), via: 'c2' }]);
    expect(said()).toEqual([expect.stringMatching(/^info 2 of 2 agents applied version 2 in \d+ ms$/)]);
  });

  it('names the agents still behind when the time is up', async () => {
    const { log, heard, said } = fleet(3, { windowMs: 100, rolloutMs: 50 });
    log.published(2);
    heard('app2', report(2));
    await sleep(80);
    expect(said()).toEqual(['warn 1 of 3 agents applied version 2 within 0.05 s; behind: app1, app3']);
    // Late ones are said on their own again: the rollout's line is out.
    heard('app3', report(2));
    expect(said().at(-1)).toBe('info agent app3 applied version 2');
  });

  it('ends with the next publish, and counts a fleet in figures an operator reads', () => {
    const { log, heard, said } = fleet(1234);
    log.published(2);
    for (let i = 1; i <= 1000; i++) heard(`app${i}`, report(2));
    log.published(3);
    expect(said()).toEqual([
      'warn 1,000 of 1,234 agents applied version 2 before version 3 was published; behind: app1001, app1002, app1003, app1004, app1005, app1006, app1007, app1008, app1009, app1010 and 224 more',
    ]);
    log.close();
  });

  it('says nothing when no live agent has it to apply', () => {
    const { log, said } = fleet(0);
    log.published(2);
    expect(said()).toEqual([]);
  });
});

describe('FleetLog: other sentences about agents', () => {
  it('says the first of a kind at once, and those after it within the window as one line', async () => {
    const { heard, said, debug } = fleet(0);
    for (let i = 1; i <= 14; i++) heard(`app${i}`, report(1));
    expect(said()).toEqual([expect.stringMatching(/^info agent app1 reports from 10\.0\.0\.1, applied version 1$/)]);
    await sleep(150);
    expect(said().slice(1)).toEqual([
      'info 13 more agents reported for the first time in the last 0.1 s: app2, app3, app4, app5, app6, app7, app8, app9, app10, app11 and 3 more',
    ]);
    expect(debug()).toHaveLength(13);
  });

  it('keeps a warning a warning, and a lone follower as itself', async () => {
    const { heard, said } = fleet(2);
    heard('app1', report(1, false));
    heard('app2', report(1, false));
    await sleep(150);
    expect(said()).toEqual([
      'warn agent app1 cannot reach myservice\'s master at 200.200.200.1:3306: connect ECONNREFUSED',
      'warn agent app2 cannot reach myservice\'s master at 200.200.200.1:3306: connect ECONNREFUSED',
    ]);
  });

  it('says what is gathered when the controller closes', () => {
    const { log, heard, said } = fleet(0);
    for (let i = 1; i <= 3; i++) heard(`app${i}`, report(1));
    log.close();
    expect(said().at(-1)).toBe('info 2 more agents reported for the first time: app2, app3');
  });
});
