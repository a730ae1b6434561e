// The admin CLI against several controllers sharing etcd, stood in for by small HTTP servers that
// answer as the contract says: a follower refuses writes with 421 naming the leader (null during
// an election), GET /v1/leader says who leads.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LeaderResponse, SetMasterResponse } from '@pullover/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeController, json } from '../../agent/test/fake-controller.js';
import { main } from '../src/cli/main.js';

const MOVED: SetMasterResponse = { cluster: 'myservice', previous_master: 'mysql1', master: 'mysql2', version: 8, changed: true };

function notLeader(res: ServerResponse, leader: { name: string; url: string; term: number } | null): void {
  json(res, 421, { statusCode: 421, code: 'PULLOVER_NOT_LEADER', error: 'Misdirected Request', message: 'not the leader', leader });
}

async function refusedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

describe('the admin CLI with several controllers', () => {
  let dir: string;
  let tokenFile: string;
  let fakes: FakeController[];
  let urls: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-cli-ha-'));
    tokenFile = join(dir, 'admin-token');
    await writeFile(tokenFile, 'a'.repeat(32) + '\n');
    fakes = [new FakeController(), new FakeController(), new FakeController()];
    urls = await Promise.all(fakes.map((f) => f.listen()));
  });
  afterEach(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([...argv, '--token-file', tokenFile], { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  const posts = (fake: FakeController) => fake.seen.filter((s) => s.method === 'POST');

  it('a write sent to a follower goes to the leader its 421 names, once, and prints nothing more', async () => {
    const [follower, leader, other] = fakes as [FakeController, FakeController, FakeController];
    follower.answer = (_req, res) => notLeader(res, { name: 'ctl2', url: `${urls[1]}/`, term: 1234 });
    leader.answer = (_req, res) => json(res, 200, MOVED);
    const result = await cli('set-master', '--cluster', 'myservice', 'mysql2', '--reason', 'r', '--url', urls.join(','));
    expect(result).toEqual({ code: 0, out: 'myservice: master mysql1 → mysql2, version 8', err: '' });
    expect(posts(follower)).toHaveLength(1);
    expect(posts(leader).map((s) => [s.url, s.body])).toEqual([[posts(follower)[0]!.url, posts(follower)[0]!.body]]);
    expect(other.seen).toEqual([]);
  });

  it('follows the leader named by a 421 even when it was not given', async () => {
    const [follower, leader] = fakes as [FakeController, FakeController];
    follower.answer = (_req, res) => notLeader(res, { name: 'ctl2', url: urls[1]!, term: 7 });
    leader.answer = (_req, res) => json(res, 200, MOVED);
    expect((await cli('set-master', '--cluster', 'myservice', 'mysql2', '--url', urls[0]!)).code).toBe(0);
    expect(posts(leader)).toHaveLength(1);
  });

  it('with no leader named, tries the other given controllers, then fails with one clear line', async () => {
    for (const fake of fakes) fake.answer = (_req, res) => notLeader(res, null);
    const result = await cli('ack', '--cluster', 'myservice', '--url', urls[0]!, '--url', `${urls[1]},${urls[2]}`);
    expect(result).toEqual({
      code: 1,
      out: '',
      err: 'pullover-controller: no controller leads right now (election under way?): retry in a few seconds',
    });
    for (const fake of fakes) expect(posts(fake)).toHaveLength(1);
  });

  it('a 421 naming a leader that refuses too (leadership moved again) ends in the same line', async () => {
    fakes[0]!.answer = (_req, res) => notLeader(res, { name: 'ctl2', url: urls[1]!, term: 7 });
    fakes[1]!.answer = (_req, res) => notLeader(res, { name: 'ctl3', url: urls[2]!, term: 8 });
    fakes[2]!.answer = (_req, res) => notLeader(res, { name: 'ctl1', url: urls[0]!, term: 9 });
    const result = await cli('ack', '--cluster', 'myservice', '--url', urls.join(','));
    expect(result.err).toBe('pullover-controller: no controller leads right now (election under way?): retry in a few seconds');
    // Followed once: each controller asked once, none twice.
    for (const fake of fakes) expect(posts(fake)).toHaveLength(1);
  });

  it('a controller that refuses the connection: the next given one, for a read and for a write', async () => {
    const down = await refusedPort();
    fakes[0]!.answer = (req, res) => (req.method === 'POST' ? json(res, 200, MOVED) : json(res, 200, LEADS));
    expect((await cli('leader', '--url', `${down},${urls[0]}`)).code).toBe(0);
    expect(await cli('set-master', '--cluster', 'myservice', 'mysql2', '--url', `${down},${urls[0]}`)).toMatchObject({
      code: 0,
      err: '',
    });
    expect(posts(fakes[0]!)).toHaveLength(1);
  });

  it('a write whose connection broke after it was sent is not sent to another controller: it may have been applied', async () => {
    fakes[0]!.answer = (req) => req.socket.destroy();
    fakes[1]!.answer = (_req, res) => json(res, 200, MOVED);
    const result = await cli('set-master', '--cluster', 'myservice', 'mysql2', '--url', `${urls[0]},${urls[1]}`);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`^pullover-controller: cannot reach the controller at ${urls[0]}: `));
    expect(fakes[1]!.seen).toEqual([]);
  });

  it('no controller reachable: one line naming each', async () => {
    const [a, b] = [await refusedPort(), await refusedPort()];
    const result = await cli('status', '--url', `${a},${b}`);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      new RegExp(`^pullover-controller: cannot reach the controller at any URL given: ${a}: .*ECONNREFUSED.*; ${b}: .*ECONNREFUSED`),
    );
  });

  it('503 stays the controller\'s own answer: overloaded, retry later, and no other controller is asked', async () => {
    fakes[0]!.answer = (_req, res) =>
      json(res, 503, { statusCode: 503, code: 'PULLOVER_BUSY', error: 'Service Unavailable', message: 'overloaded: retry in 2 s' });
    const result = await cli('ack', '--cluster', 'myservice', '--url', `${urls[0]},${urls[1]}`);
    expect(result).toEqual({ code: 1, out: '', err: 'pullover-controller: overloaded: retry in 2 s' });
    expect(fakes[1]!.seen).toEqual([]);
  });
});

const LEADS: LeaderResponse = {
  mode: 'etcd',
  self: { name: 'ctl1', role: 'follower', etcd_reachable: true },
  leader: { name: 'ctl2', url: 'https://ctl2:7420', term: 1234 },
  controllers: [
    { name: 'ctl1', url: 'https://ctl1:7420', role: 'follower' },
    { name: 'ctl2', url: 'https://ctl2:7420', role: 'leader' },
    { name: 'ctl3', url: 'https://ctl3:7420', role: 'follower' },
  ],
};

describe('pullover-controller leader', () => {
  let dir: string;
  let fake: FakeController;
  let url: string;
  let tokenFile: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-cli-leader-'));
    tokenFile = join(dir, 'viewer-token');
    await writeFile(tokenFile, 'v'.repeat(32) + '\n');
    fake = new FakeController();
    url = await fake.listen();
  });
  afterEach(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function leader(answer: LeaderResponse, ...flags: string[]) {
    fake.answer = (_req, res) => json(res, 200, answer);
    const out: string[] = [];
    const code = await main(['leader', ...flags, '--url', url, '--token-file', tokenFile], { out: (t) => out.push(t), err: () => {} });
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /v1/leader']);
    return { code, out: out.join('\n') };
  }

  it('prints who leads, its term, and each controller with its role', async () => {
    expect(await leader(LEADS)).toEqual({
      code: 0,
      out: [
        'leader ctl2 (term 1234) at https://ctl2:7420',
        'CONTROLLER  ROLE      URL',
        'ctl1        follower  https://ctl1:7420  answered this',
        'ctl2        leader    https://ctl2:7420',
        'ctl3        follower  https://ctl3:7420',
      ].join('\n'),
    });
  });

  it('exits 1 while nobody leads, and says when the controller that answered is cut off from etcd', async () => {
    const electing: LeaderResponse = { ...LEADS, self: { ...LEADS.self, etcd_reachable: false }, leader: null };
    const { code, out } = await leader(electing);
    expect(code).toBe(1);
    expect(out.split('\n').slice(0, 2)).toEqual([
      'no controller leads right now (election under way?): retry in a few seconds',
      'ctl1, which answered, cannot reach etcd: this view may be out of date; ask another controller',
    ]);
  });

  it('one controller with its state dir acts alone', async () => {
    const single: LeaderResponse = { mode: 'single', self: { name: 'ctl1', role: 'single', etcd_reachable: false }, leader: null, controllers: [] };
    expect(await leader(single)).toEqual({ code: 0, out: 'ctl1 acts alone: one controller with its state dir, no etcd' });
  });

  it('--json: the answer as the controller gave it', async () => {
    expect(JSON.parse((await leader(LEADS, '--json')).out)).toEqual(LEADS);
  });
});
