import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Mapping } from '@pullover/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PulloverAgent } from '../src/agent.js';
import { ControllerClient } from '../src/client.js';
import { AgentConfigSchema } from '../src/config.js';
import { ControllerUnavailableError } from '../src/errors.js';
import { rankControllers, Rotation, verdictOf } from '../src/rotation.js';
import { StateFile } from '../src/state.js';
import { FakeController, json } from './fake-controller.js';

const HOST = 'mysql-master.myservice.com';

function mapping(version: number, term: number, address: string): Mapping {
  return {
    version,
    term,
    issued_at: '2026-11-23T10:00:00.000Z',
    clusters: [{ name: 'myservice', master: 'm', port: 1, entries: [{ hostname: HOST, address }] }],
  };
}

const NOT_SERVING = { statusCode: 503, code: 'PULLOVER_NOT_SERVING', error: 'Service Unavailable', message: 'cut off from etcd for 12 s' };
const NOT_LEADER = { statusCode: 421, code: 'PULLOVER_NOT_LEADER', error: 'Misdirected Request', message: 'not the leader', leader: null };

/** A parked poll, answered 204 when the hold the agent asked for ends. */
function park(url: string, res: import('node:http').ServerResponse): void {
  const wait = Number(new URL(url, 'http://x').searchParams.get('wait'));
  setTimeout(() => res.writeHead(204).end(), wait * 1000).unref();
}

describe('an agent with three controllers', () => {
  let dir: string;
  let hostsFile: string;
  let controllers: FakeController[];
  let urls: string[];
  let agents: PulloverAgent[];
  let lines: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-agent-ha-'));
    hostsFile = join(dir, 'hosts');
    await writeFile(hostsFile, '127.0.0.1\tlocalhost\n');
    controllers = [new FakeController(), new FakeController(), new FakeController()];
    urls = await Promise.all(controllers.map((c) => c.listen()));
    agents = [];
    lines = [];
  });
  afterEach(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await Promise.all(controllers.map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  function start(): PulloverAgent {
    const config = AgentConfigSchema.parse({
      name: 'app7',
      controllers: urls,
      token_file: '/unused',
      hosts_file: hostsFile,
      state_dir: join(dir, 'state'),
      watch: false,
      probe_timeout: '100ms',
      backoff: { min: '200ms', max: '2s' },
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg));
        done();
      },
    });
    const agent = new PulloverAgent({
      config,
      clients: urls.map((url) => new ControllerClient(url, { token: 't', timeoutMs: 2000 })),
      stateFile: new StateFile(config.state_dir),
      logger: pino({ level: 'info' }, sink),
    });
    agents.push(agent);
    return agent;
  }

  /** The fake controllers in the order agent app7 asks them. */
  const ranked = () => rankControllers('app7', urls.map((url, i) => ({ url, fake: controllers[i] as FakeController })));

  const until = async (check: () => boolean, ms = 5000) => {
    const deadline = performance.now() + ms;
    while (!check()) {
      if (performance.now() > deadline) throw new Error(`timed out; log: ${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('starts at its own controller; one cut off from etcd (503 NOT_SERVING) sends it to the next at once', async () => {
    const [own, next, last] = ranked();
    own!.fake.answer = (_req, res) => json(res, 503, NOT_SERVING, { 'retry-after': '2' });
    next!.fake.answer = (req, res) => {
      if (req.method === 'POST') res.writeHead(204).end();
      else if (req.url?.startsWith('/v1/mapping?after=0&')) json(res, 200, mapping(3, 1234, '127.0.10.3'));
      else park(req.url ?? '', res);
    };
    const agent = start();
    await agent.init();
    for (const c of controllers) c.start();
    void agent.run();
    await until(() => agent.appliedVersion === 3);

    expect(own!.fake.seen.map((s) => s.method)).toEqual(['POST']);
    expect(last!.fake.seen).toEqual([]);
    // No backoff on the way: the report refused, then the next one's report at once.
    expect(next!.fake.seen[0]!.at - own!.fake.seen[0]!.at).toBeLessThan(150);
    expect(next!.fake.seen.map((s) => s.method)).toEqual(['POST', 'GET', ...next!.fake.seen.slice(2).map(() => 'GET')]);
    expect(agent.controller).toBe(next!.url);
    expect(await readFile(hostsFile, 'utf8')).toContain(`127.0.10.3\t${HOST}\n`);
    expect(lines).toContainEqual(
      `controller ${own!.url} unavailable: HTTP 503: cut off from etcd for 12 s; keeping the hosts file as it is, asking ${next!.url} now`,
    );
    expect(lines).toContainEqual(expect.stringMatching(
      new RegExp(`^applied version 3 \\(term 1234\\) from ${next!.url}: ${HOST} → 127\\.0\\.10\\.3 `),
    ));
  });

  it('a report refused with 421 moves the agent, its poll too, to the next controller', async () => {
    const [own, next] = ranked();
    own!.fake.answer = (_req, res) => json(res, 421, NOT_LEADER);
    next!.fake.answer = (req, res) => {
      if (req.method === 'POST') res.writeHead(204).end();
      else if (req.url?.startsWith('/v1/mapping?after=0&')) json(res, 200, mapping(1, 5, '127.0.10.1'));
      else park(req.url ?? '', res);
    };
    const agent = start();
    await agent.init();
    void agent.run();
    await until(() => agent.appliedVersion === 1);
    expect(own!.fake.seen).toHaveLength(1);
    expect(next!.fake.seen.filter((s) => s.method === 'GET')).not.toHaveLength(0);
  });

  it('a stale controller offering a lower version, after a restart: the hosts file is not touched', async () => {
    const [own, next] = ranked();
    const first = start();
    await first.init();
    await first.apply(mapping(7, 20, '127.0.10.7'), next!.url);
    await first.close();
    const before = await readFile(hostsFile);

    // Answers every poll at once with version 5, whatever `after` says: a follower restored from an old copy.
    own!.fake.answer = (req, res) => (req.method === 'POST' ? res.writeHead(204).end() : json(res, 200, mapping(5, 19, '127.0.10.5')));
    next!.fake.answer = (req, res) => (req.method === 'POST' ? res.writeHead(204).end() : park(req.url ?? '', res));
    const restarted = start();
    await restarted.init();
    void restarted.run();
    await until(() => next!.fake.seen.some((s) => s.method === 'GET'));

    expect(own!.fake.seen.find((s) => s.method === 'GET')?.url).toMatch(/^\/v1\/mapping\?after=7&/);
    expect(next!.fake.seen.find((s) => s.method === 'GET')?.url).toMatch(/^\/v1\/mapping\?after=7&/);
    expect(await readFile(hostsFile)).toEqual(before);
    expect(restarted.appliedVersion).toBe(7);
    expect(lines).toContainEqual(expect.stringMatching(/^refused version 5 is older than the applied version 7 /));
  });
});

describe('which controller an agent asks', () => {
  const URLS = ['https://c1:7420', 'https://c2:7420', 'https://c3:7420'];
  const names = Array.from({ length: 1000 }, (_, i) => `app${String(i + 1).padStart(4, '0')}`);
  const first = (name: string, urls: string[]) => rankControllers(name, urls.map((url) => ({ url })))[0]!.url;

  it('1,000 agents split evenly over 3 controllers (within 15 %), whatever the order of the list', () => {
    const count = new Map<string, number>();
    for (const name of names) {
      const url = first(name, URLS);
      expect(first(name, [...URLS].reverse())).toBe(url);
      count.set(url, (count.get(url) ?? 0) + 1);
    }
    for (const url of URLS) expect(Math.abs((count.get(url) ?? 0) - 1000 / 3)).toBeLessThan(1000 / 3 * 0.15);
  });

  it('the agents of a controller that goes away split evenly over the others', () => {
    const moved = names.filter((name) => first(name, URLS) === URLS[0]).map((name) => first(name, URLS.slice(1)));
    const toC2 = moved.filter((url) => url === URLS[1]).length;
    expect(Math.abs(toC2 - moved.length / 2)).toBeLessThan(moved.length * 0.15);
    // And the others' agents stay where they are.
    const stayed = names.filter((n) => first(n, URLS) !== URLS[0]);
    for (const name of stayed) expect(first(name, URLS.slice(1))).toBe(first(name, URLS));
  });
});

describe('Rotation', () => {
  const refused = (status: number, code?: string, retryAfterMs?: number) =>
    new ControllerUnavailableError('https://c1', `HTTP ${status}`, { status, code, retryAfterMs });
  const down = new ControllerUnavailableError('https://c1', 'ECONNREFUSED');
  const make = () => new Rotation(['a', 'b', 'c'], { min: 500, max: 30_000 }, () => 1);

  it('names what each failure means', () => {
    expect(verdictOf(refused(503, 'PULLOVER_NOT_SERVING', 2000))).toBe('redirected');
    expect(verdictOf(refused(421, 'PULLOVER_NOT_LEADER'))).toBe('redirected');
    expect(verdictOf(refused(503, 'PULLOVER_BUSY', 2000))).toBe('overloaded');
    expect(verdictOf(refused(503, 'PULLOVER_OVERLOADED', 2000))).toBe('overloaded');
    expect(verdictOf(refused(503, 'PULLOVER_CLOSING', 1000))).toBe('failed');
    expect(verdictOf(down)).toBe('failed');
    expect(verdictOf(new Error('refused version 5'))).toBe('failed');
  });

  it('moves on at once when told to, after a short spread when one is down, and backs off after a whole round', () => {
    const rotation = make();
    expect(rotation.failed(refused(503, 'PULLOVER_NOT_SERVING'), 0)).toBe(0);
    expect(rotation.current).toBe('b');
    expect(rotation.failed(down, 0)).toBe(500);
    expect(rotation.current).toBe('c');
    // Every controller failed in a row: the jittered backoff, growing per round.
    expect(rotation.failed(refused(421), 0)).toBe(500);
    expect(rotation.current).toBe('a');
    const again = [rotation.failed(down, 5000), rotation.failed(down, 5000), rotation.failed(down, 5000)];
    expect(again).toEqual([500, 500, 1000]);
    expect(rotation.answered()).toBe(true);
    expect(rotation.answered()).toBe(false);
  });

  it('asks an overloaded controller again after its Retry-After, and counts it as no failure', () => {
    const rotation = make();
    expect(rotation.failed(refused(503, 'PULLOVER_BUSY', 2000), 0)).toBe(4000);
    expect(rotation.current).toBe('a');
    expect(rotation.answered()).toBe(false);
  });

  it('with one controller, backs off after each failure as it always did', () => {
    const rotation = new Rotation(['a'], { min: 500, max: 30_000 }, () => 1);
    const delays = [rotation.failed(down, 0), rotation.failed(down, 10_000), rotation.failed(down, 10_000)];
    expect(delays).toEqual([500, 1000, 2000]);
    expect(rotation.failed(refused(503, 'PULLOVER_CLOSING', 1000), 10_000)).toBe(2000);
  });
});
