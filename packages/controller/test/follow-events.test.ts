import { createServer, type Server } from 'node:http';
import type { ControllerEvent } from '@pullover/protocol';
import { transportFor } from '../src/cli/http.js';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient } from '../src/cli/client.js';
import { followEvents } from '../src/cli/follow.js';
import { EventLog } from '../src/events/event-log.js';

/**
 * /v1/events served from a real EventLog over real HTTP; `restart` drops every connection, as a
 * killed controller does, and serves a new log whose numbers start over.
 */
class FakeController {
  log = new EventLog(() => new Date());
  /** Requests not answered yet: a follower holding a long-poll. */
  held = 0;
  readonly server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const left = new AbortController();
    this.held++;
    res.once('close', () => {
      this.held--;
      left.abort();
    });
    const param = (name: string) => Number(url.searchParams.get(name) ?? 0);
    void this.log
      .wait(param('after'), param('wait') * 1000, url.searchParams.get('cluster') ?? undefined, left.signal)
      .then((page) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page)));
  });

  say(...messages: string[]): void {
    for (const message of messages) this.log.append({ level: 'info', message });
  }

  dropConnections(): void {
    this.server.closeAllConnections();
  }

  restart(...messages: string[]): void {
    this.dropConnections();
    this.log = new EventLog(() => new Date());
    this.say(...messages);
  }
}

let running: { fake: FakeController; client: AdminClient; stop: AbortController; done: Promise<void> } | undefined;
afterEach(async () => {
  running?.stop.abort();
  await running?.done;
  await running?.client.close();
  running?.fake.server.close();
  running = undefined;
});

async function follow(...messages: string[]) {
  const fake = new FakeController();
  fake.say(...messages);
  await new Promise<void>((done) => fake.server.listen(0, '127.0.0.1', done));
  const { port } = fake.server.address() as { port: number };
  const client = new AdminClient({ url: `http://127.0.0.1:${port}`, token: 't', transport: transportFor('http:') });
  const printed: string[] = [];
  const notes: string[] = [];
  const stop = new AbortController();
  const print = (event: ControllerEvent) => printed.push(event.message);
  const done = followEvents(client, { follow: true, signal: stop.signal, print, note: (line) => notes.push(line) });
  running = { fake, client, stop, done };
  return { fake, printed, notes };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition();) {
    if (Date.now() - started > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('events --follow across a lost controller', () => {
  it('the same controller back: goes on after the last event, nothing twice', async () => {
    const { fake, printed, notes } = await follow('a1', 'a2');
    await until('the kept events and a held long-poll', () => printed.length === 2 && fake.held === 1);
    fake.dropConnections();
    await until('the back line', () => notes.length === 2);
    fake.say('a3');
    await until('a new event', () => printed.length === 3);
    expect(printed).toEqual(['a1', 'a2', 'a3']);
    expect(notes[0]).toMatch(/^pullover-controller: cannot reach the controller at .*; retrying until it answers/);
    expect(notes[1]).toBe('pullover-controller: the controller answers again; following on after event 2');
  });

  it('a restart with more events than were seen: all of the new ones, said once', async () => {
    const { fake, printed, notes } = await follow('a1', 'a2');
    await until('the kept events and a held long-poll', () => printed.length === 2 && fake.held === 1);
    fake.restart('b1', 'b2', 'b3', 'b4');
    await until('the new controller\'s events', () => printed.length === 6);
    fake.say('b5');
    await until('a new event', () => printed.length === 7);
    expect(printed).toEqual(['a1', 'a2', 'b1', 'b2', 'b3', 'b4', 'b5']);
    expect(notes).toHaveLength(2);
    expect(notes[1]).toContain('it restarted and numbers its events from 1 again');
  });

  it('a restart with fewer events than were seen: all of the new ones', async () => {
    const { fake, printed, notes } = await follow('a1', 'a2', 'a3');
    await until('the kept events and a held long-poll', () => printed.length === 3 && fake.held === 1);
    fake.restart('b1');
    await until('the new controller\'s event', () => printed.length === 4);
    expect(printed).toEqual(['a1', 'a2', 'a3', 'b1']);
    expect(notes[1]).toContain('it restarted');
  });

  it('a controller never reached is an error at once: a wrong --url must not look like a quiet controller', async () => {
    const client = new AdminClient({ url: 'http://127.0.0.1:1', token: 't', transport: transportFor('http:') });
    const notes: string[] = [];
    const following = followEvents(client, {
      follow: true,
      signal: new AbortController().signal,
      print: () => undefined,
      note: (line) => notes.push(line),
    });
    await expect(following).rejects.toThrow(/cannot reach the controller at http:\/\/127.0.0.1:1/);
    expect(notes).toEqual([]);
    await client.close();
  });
});
