import { ErrorBody, Mapping } from '@pullover/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { OVERLOAD_LAG_MS, ReportShedding, RETRY_AFTER_S } from '../src/http/overload.js';
import type { Controller } from '../src/index.js';
import type { LogLine } from '../src/log-line.js';
import { adminAuth, agentAuth, openTest, report, tempDir } from './helpers.js';

describe('ReportShedding', () => {
  it('sheds while the loop is behind, never an agent known to be behind, and says when it starts and stops', () => {
    let lag = 0;
    const said: LogLine[] = [];
    const shedding = new ReportShedding(() => lag, (line) => said.push(line));
    expect(shedding.decide(false)).toBeUndefined();
    lag = OVERLOAD_LAG_MS + 50;
    expect(shedding.decide(false)).toBe(RETRY_AFTER_S);
    expect(shedding.decide(true)).toBeUndefined();
    expect(shedding.decide(false)).toBe(RETRY_AFTER_S);
    expect(said.map((l) => l.level)).toEqual(['warn']);
    expect(said[0]?.message).toMatch(/^overloaded \(event loop 200 ms behind\): agents' reports are answered 503/);
    lag = 10;
    expect(shedding.decide(false)).toBeUndefined();
    expect(said[1]?.message).toMatch(/^answering agents' reports again: 2 were answered 503 over \d+ ms$/);
  });
});

describe('an overloaded controller', () => {
  const open: Controller[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.app.close()));
  });

  /** Holds the event loop as a herd of requests read in one go would. */
  function busy(ms: number): void {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // spinning on purpose
    }
  }

  it('answers a new agent\'s report 503 with Retry-After before reading it, and still serves every poll', async () => {
    const c = await openTest(await tempDir());
    open.push(c);
    const send = (name: string, version: number) =>
      c.app.inject({ method: 'POST', url: `/v1/agents/${name}/report`, headers: agentAuth, payload: report(version) });
    expect((await send('app1', 1)).statusCode).toBe(204);
    await c.app.inject({ method: 'POST', url: '/v1/clusters/myservice/set-master', headers: adminAuth, payload: { server: 'mysql2' } });

    busy(OVERLOAD_LAG_MS + 100);
    const shed = await send('app2', 1);
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe(String(RETRY_AFTER_S));
    expect(ErrorBody.parse(shed.json())).toMatchObject({ code: 'PULLOVER_BUSY' });
    expect(c.registry.get('app2')).toBeUndefined();

    // app1 has yet to apply version 2: its report is answered, and so is a poll for the new version.
    busy(OVERLOAD_LAG_MS + 100);
    expect((await send('app1', 1)).statusCode).toBe(204);
    busy(OVERLOAD_LAG_MS + 100);
    const poll = await c.app.inject({ method: 'GET', url: '/v1/mapping?after=1&wait=0', headers: agentAuth });
    expect(Mapping.parse(poll.json()).version).toBe(2);
  });
});

describe('a closing controller', () => {
  it('ends parked polls with 503 and Retry-After, and no error line for each', async () => {
    const lines: { level: number }[] = [];
    const c = await openTest(await tempDir(), {
      logger: { level: 'info', stream: { write: (l: string) => void lines.push(JSON.parse(l)) } },
    });
    const parked = c.app.inject({ method: 'GET', url: '/v1/mapping?after=1&wait=60', headers: agentAuth });
    await new Promise((r) => setTimeout(r, 50));
    expect(c.publisher.parked).toBe(1);
    await c.app.close();
    const answer = await parked;
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(ErrorBody.parse(answer.json())).toMatchObject({ code: 'PULLOVER_CLOSING' });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
