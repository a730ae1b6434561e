import { MAX_EVENTS_PER_ANSWER } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../src/events/event-log.js';

const AT = new Date('2026-11-24T03:00:00.000Z');

function logOf(lines: [string | undefined, string][], capacity?: number): EventLog {
  const log = new EventLog(() => AT, capacity);
  for (const [cluster, message] of lines) {
    log.append({ level: 'info', message, ...(cluster === undefined ? {} : { cluster }) });
  }
  return log;
}

describe('EventLog.since', () => {
  const log = logOf([
    ['a', 'a: mysql1 stops answering'],
    [undefined, 'agent app1 applied version 2'],
    ['b', 'b: switchover starts'],
    ['a', 'a: failing over'],
  ]);

  it.each([
    { after: 0, cluster: undefined, seqs: [1, 2, 3, 4], next: 4 },
    { after: 2, cluster: undefined, seqs: [3, 4], next: 4 },
    { after: 4, cluster: undefined, seqs: [], next: 4 },
    // A cluster's events and those about no cluster (agents): a failover's progress includes its agents.
    { after: 0, cluster: 'a', seqs: [1, 2, 4], next: 4 },
    { after: 0, cluster: 'b', seqs: [2, 3], next: 4 },
    { after: 3, cluster: 'b', seqs: [], next: 4 },
    // Ahead of the log: the controller restarted since the client's last call.
    { after: 90, cluster: undefined, seqs: [1, 2, 3, 4], next: 4 },
  ])('after $after, cluster $cluster → $seqs', ({ after, cluster, seqs, next }) => {
    const answer = log.since(after, cluster);
    expect(answer.events.map((e) => e.seq)).toEqual(seqs);
    expect(answer.next).toBe(next);
    expect(answer.first).toBe(1);
  });

  it('keeps the newest events within its capacity and says where they start', () => {
    const small = logOf(
      Array.from({ length: 10 }, (_, i): [string, string] => ['a', `event ${i + 1}`]),
      4,
    );
    const answer = small.since(2);
    expect(answer.first).toBe(7);
    expect(answer.events.map((e) => e.message)).toEqual(['event 7', 'event 8', 'event 9', 'event 10']);
  });

  it('pages: one answer holds at most MAX_EVENTS_PER_ANSWER events, `next` continues', () => {
    const many = logOf(Array.from({ length: MAX_EVENTS_PER_ANSWER + 3 }, (_, i): [string, string] => ['a', `e${i}`]));
    const page = many.since(0);
    expect(page.events).toHaveLength(MAX_EVENTS_PER_ANSWER);
    expect(many.since(page.next).events.map((e) => e.message)).toEqual([
      `e${MAX_EVENTS_PER_ANSWER}`,
      `e${MAX_EVENTS_PER_ANSWER + 1}`,
      `e${MAX_EVENTS_PER_ANSWER + 2}`,
    ]);
  });

  it('records time, level and cluster', () => {
    const one = new EventLog(() => AT);
    one.append({ level: 'warn', cluster: 'a', message: 'a: failing over' });
    expect(one.since(0).events).toEqual([
      { seq: 1, at: AT.toISOString(), level: 'warn', cluster: 'a', message: 'a: failing over' },
    ]);
  });
});

describe('EventLog.wait', () => {
  it('answers the moment a matching event arrives, not before', async () => {
    const log = logOf([['a', 'first']]);
    const waiting = log.wait(1, 5000, 'a');
    log.append({ level: 'info', cluster: 'b', message: 'not for a' });
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    log.append({ level: 'info', cluster: 'a', message: 'for a' });
    const answer = await waiting;
    expect(answer.events.map((e) => e.message)).toEqual(['for a']);
    expect(answer.next).toBe(3);
  });

  it('answers empty at the deadline, when the client leaves, and on close', async () => {
    const log = logOf([]);
    expect((await log.wait(0, 30)).events).toEqual([]);
    const left = new AbortController();
    const waiting = log.wait(0, 60_000, undefined, left.signal);
    left.abort();
    expect((await waiting).events).toEqual([]);
    const closing = log.wait(0, 60_000);
    log.close();
    expect((await closing).events).toEqual([]);
  });
});
