import { EventEmitter } from 'node:events';
import type { Mapping } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { ControllerClosing, MappingPublisher } from '../src/index.js';
import { AnswersFirst } from '../src/mapping/answers-first.js';

function mapping(version: number, address = '200.200.200.1'): Mapping {
  return {
    version,
    issued_at: new Date().toISOString(),
    clusters: [
      {
        name: 'myservice',
        master: 'mysql1',
        port: 3306,
        entries: [{ hostname: 'mysql-master.myservice.com', address }],
      },
    ],
  };
}

describe('MappingPublisher', () => {
  it('answers at once when the current version is newer', async () => {
    const publisher = new MappingPublisher(mapping(3));
    expect((await publisher.wait(2, 10_000))?.mapping.version).toBe(3);
    expect(publisher.parked).toBe(0);
  });

  it('serializes once: every waiter gets the same string', async () => {
    const publisher = new MappingPublisher(mapping(1));
    const waits = Array.from({ length: 1000 }, () => publisher.wait(1, 10_000));
    expect(publisher.parked).toBe(1000);
    publisher.publish(mapping(2, '200.200.200.2'));
    const answers = await Promise.all(waits);
    expect(new Set(answers.map((a) => a?.body)).size).toBe(1);
    expect(answers.every((a) => a?.body === publisher.current.body)).toBe(true);
    expect(publisher.parked).toBe(0);
  });

  it('answers null at the deadline, not before', async () => {
    const publisher = new MappingPublisher(mapping(1));
    const started = Date.now();
    expect(await publisher.wait(1, 250)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(245);
    expect(publisher.parked).toBe(0);
  });

  it('keeps waiters that are ahead of a publication parked', async () => {
    const publisher = new MappingPublisher(mapping(1));
    const ahead = publisher.wait(5, 300);
    const behind = publisher.wait(1, 300);
    publisher.publish(mapping(2));
    expect((await behind)?.mapping.version).toBe(2);
    expect(publisher.parked).toBe(1);
    expect(await ahead).toBeNull();
  });

  it('drops a waiter the moment its client leaves', async () => {
    const publisher = new MappingPublisher(mapping(1));
    const request = new EventEmitter();
    const waiting = publisher.wait(1, 60_000, request);
    expect(publisher.parked).toBe(1);
    request.emit('close');
    expect(await waiting).toBeNull();
    expect(publisher.parked).toBe(0);
    expect(request.listenerCount('close')).toBe(0);
  });

  it('answers a large fleet a few hundred per turn of the event loop, and says when all had theirs', async () => {
    const publisher = new MappingPublisher(mapping(1));
    const told: unknown[] = [];
    publisher.listen({
      published: (version, parked) => told.push(['published', version, parked]),
      answered: (version, count) => told.push(['answered', version, count]),
    });
    const answered: number[] = [];
    const waits = Array.from({ length: 1000 }, (_, i) => publisher.wait(1, 60_000).then(() => answered.push(i)));
    const ahead = publisher.wait(2, 300);
    publisher.publish(mapping(2));
    // Something else gets its turn before the last poll has its answer: the admin call that published.
    await new Promise((r) => setImmediate(r));
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.length).toBeLessThan(1000);
    await Promise.all(waits);
    expect(told).toEqual([['published', 2, 1000], ['answered', 2, 1000]]);
    expect(publisher.parked).toBe(1);
    expect(await ahead).toBeNull();
  });

  it('gives a poll still waiting for its turn the newest mapping when two are published in a row', async () => {
    const publisher = new MappingPublisher(mapping(1));
    const waits = Array.from({ length: 1000 }, () => publisher.wait(1, 60_000));
    publisher.publish(mapping(2));
    publisher.publish(mapping(3));
    const versions = (await Promise.all(waits)).map((answer) => answer?.mapping.version);
    expect(versions).toContain(2);
    expect(versions.at(-1)).toBe(3);
    expect(publisher.parked).toBe(0);
  });

  it('refuses a version that does not rise, and an invalid mapping', () => {
    const publisher = new MappingPublisher(mapping(4));
    expect(() => publisher.publish(mapping(4))).toThrow(/not newer than 4/);
    expect(() => publisher.publish(mapping(5, '1.2.3.4\n6.6.6.6 evil'))).toThrow();
    expect(publisher.version).toBe(4);
  });

  it('close() rejects parked and new waits with ControllerClosing', async () => {
    const publisher = new MappingPublisher(mapping(1));
    const parked = publisher.wait(1, 60_000);
    publisher.close();
    await expect(parked).rejects.toBeInstanceOf(ControllerClosing);
    await expect(publisher.wait(0, 1000)).rejects.toMatchObject({
      statusCode: 503,
      code: 'PULLOVER_CLOSING',
    });
    expect(publisher.parked).toBe(0);
  });
});

describe('AnswersFirst', () => {
  const socket = () => ({
    paused: false,
    pause() {
      this.paused = true;
    },
    resume() {
      this.paused = false;
    },
  });

  it('reads no agent already answered until every parked poll has its answer, then all of them again', async () => {
    const first = new AnswersFirst();
    const sockets = Array.from({ length: 600 }, socket);
    first.hold(sockets[0] as never);
    expect(sockets[0]?.paused).toBe(false);
    first.published();
    for (const s of sockets) first.hold(s as never);
    expect(sockets.every((s) => s.paused)).toBe(true);
    first.answered();
    // A few hundred per turn of the event loop, as the answers went.
    expect(sockets.filter((s) => s.paused)).toHaveLength(350);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(sockets.some((s) => s.paused)).toBe(false);
  });
});
