import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AckResponse,
  ErrorBody,
  EventsResponse,
  type FailoverRecord,
  HistoryResponse,
  MAX_REPORT_BYTES,
  Mapping,
  PauseResponse,
  ResumeResponse,
  SetMasterResponse,
  Status,
} from '@pullover/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { Authority } from '../src/ha/authority.js';
import { buildApp, type Controller, FileStore, NotLeader, StateError, type Store, TokenAuth } from '../src/index.js';
import {
  ADMIN_TOKEN,
  AGENT_TOKEN,
  adminAuth,
  agentAuth,
  logCapture,
  openTest,
  report,
  tempDir,
  viewerAuth,
} from './helpers.js';

const open: Controller[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.app.close()));
});

async function controller(options: Parameters<typeof openTest>[1] = {}, dir?: string) {
  const c = await openTest(dir ?? (await tempDir()), options);
  open.push(c);
  return c;
}

function setMaster(c: Controller, server: string, cluster = 'myservice', extra: object = {}, headers = adminAuth) {
  return c.app.inject({
    method: 'POST',
    url: `/v1/clusters/${cluster}/set-master`,
    headers,
    payload: { server, ...extra },
  });
}

function poll(c: Controller, query: string) {
  return c.app.inject({ method: 'GET', url: `/v1/mapping?${query}`, headers: agentAuth });
}

function errorOf(body: string) {
  return ErrorBody.parse(JSON.parse(body));
}

describe('GET /v1/mapping as an acknowledgement', () => {
  const HASH = 'ab'.repeat(32);

  it('a poll naming its agent and block records that agent at version `after`', async () => {
    const c = await controller();
    expect((await setMaster(c, 'mysql2')).statusCode).toBe(200);
    expect((await poll(c, `after=2&wait=0&agent=app7&block=${HASH}`)).statusCode).toBe(204);
    const status = Status.parse(
      (await c.app.inject({ method: 'GET', url: '/v1/status', headers: adminAuth })).json(),
    );
    expect(status.agents).toMatchObject([
      { name: 'app7', applied_version: 2, current: true, block_hash: HASH },
    ]);
    expect(status.agents_current).toBe(1);
  });

  it('keeps what the last full report said of the masters', async () => {
    const c = await controller();
    const body = report(1, { masters: [] });
    await c.app.inject({ method: 'POST', url: '/v1/agents/app7/report', headers: agentAuth, payload: body });
    await poll(c, `after=1&wait=0&agent=app7&block=${HASH}`);
    expect(c.registry.get('app7')?.report).toEqual({ ...body, block_hash: HASH });
  });

  it('a malformed acknowledgement is a 400 naming the field', async () => {
    const c = await controller();
    const res = await poll(c, 'after=1&wait=0&agent=app7&block=not-a-hash');
    expect(res.statusCode).toBe(400);
    expect(errorOf(res.body).message).toContain('query.block');
    expect(c.registry.size).toBe(0);
  });
});

describe('GET /v1/mapping', () => {
  it('answers at once when the mapping is newer than `after`', async () => {
    const c = await controller();
    const started = Date.now();
    const res = await poll(c, 'after=0&wait=30');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.statusCode).toBe(200);
    const mapping = Mapping.parse(res.json());
    expect(mapping.version).toBe(1);
    expect(mapping.clusters).toEqual([
      {
        name: 'myservice',
        master: 'mysql1',
        port: 3306,
        entries: [{ hostname: 'mysql-master.myservice.com', address: '200.200.200.1' }],
      },
    ]);
  });

  it('holds the request and answers the moment a new version is published', async () => {
    const c = await controller();
    const pending = poll(c, 'after=1&wait=10');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.publisher.parked).toBe(1);
    const started = Date.now();
    expect((await setMaster(c, 'mysql2')).statusCode).toBe(200);
    const res = await pending;
    expect(Date.now() - started).toBeLessThan(500);
    expect(res.statusCode).toBe(200);
    expect(Mapping.parse(res.json())).toMatchObject({
      version: 2,
      clusters: [{ master: 'mysql2', entries: [{ address: '200.200.200.2' }] }],
    });
    expect(c.publisher.parked).toBe(0);
  });

  it('answers 204 at the deadline when nothing changed', async () => {
    const c = await controller();
    const started = Date.now();
    const res = await poll(c, 'after=1&wait=0.3');
    const took = Date.now() - started;
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1000);
    expect(c.publisher.parked).toBe(0);
  });

  it('caps the hold at MAX_WAIT_SECONDS instead of refusing a long wait', async () => {
    const c = await controller();
    const pending = poll(c, 'after=1&wait=100000');
    await new Promise((r) => setTimeout(r, 100));
    expect(c.publisher.parked).toBe(1);
    await setMaster(c, 'mysql2');
    expect((await pending).statusCode).toBe(200);
  });

  it('holds an agent that is ahead of the controller, answers 204, and warns', async () => {
    const log = logCapture();
    const c = await controller({ logger: log.logger });
    const res = await poll(c, 'after=9&wait=0.2');
    expect(res.statusCode).toBe(204);
    expect(
      log.messages().some((m) => /has applied version 9, but this controller is at version 1/.test(m)),
    ).toBe(true);
  });

  it('rejects bad and unknown query fields with 400 naming them', async () => {
    const c = await controller();
    const unknown = await poll(c, 'after=0&since=3');
    expect(unknown.statusCode).toBe(400);
    expect(errorOf(unknown.body)).toMatchObject({
      code: 'PULLOVER_BAD_REQUEST',
      message: 'query.since: unknown field',
    });
    const bad = await poll(c, 'after=-1');
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad.body).message).toMatch(/^query\.after: /);
  });
});

describe('POST /v1/clusters/:cluster/set-master', () => {
  it('moves the master, raises the version by one, and logs one sentence', async () => {
    const log = logCapture();
    const c = await controller({ logger: log.logger });
    const res = await setMaster(c, 'mysql2', 'myservice', { reason: 'maintenance of mysql1' });
    expect(res.statusCode).toBe(200);
    expect(SetMasterResponse.parse(res.json())).toEqual({
      cluster: 'myservice',
      previous_master: 'mysql1',
      master: 'mysql2',
      version: 2,
      changed: true,
    });
    expect(log.messages()).toContain(
      'set-master myservice: mysql-master.myservice.com now → mysql2 (200.200.200.2), version 2 (reason: maintenance of mysql1)',
    );
    expect(c.keeper.state.history.at(-1)).toMatchObject({
      event: 'set-master',
      reason: 'maintenance of mysql1',
    });
  });

  it('is a no-op when the server already is the master', async () => {
    const c = await controller();
    const res = await setMaster(c, 'mysql1');
    expect(res.json()).toEqual({
      cluster: 'myservice',
      previous_master: 'mysql1',
      master: 'mysql1',
      version: 1,
      changed: false,
    });
    expect(c.publisher.publishes).toBe(0);
  });

  it('answers 404 naming the known servers and clusters', async () => {
    const c = await controller();
    const server = await setMaster(c, 'mysql9');
    expect(server.statusCode).toBe(404);
    expect(errorOf(server.body)).toMatchObject({
      code: 'PULLOVER_UNKNOWN_SERVER',
      message: 'cluster myservice has no server mysql9 (servers: mysql1, mysql2, mysql3)',
    });
    const cluster = await setMaster(c, 'mysql2', 'other');
    expect(cluster.statusCode).toBe(404);
    expect(errorOf(cluster.body)).toMatchObject({
      code: 'PULLOVER_UNKNOWN_CLUSTER',
      message: 'unknown cluster other (clusters: myservice)',
    });
  });

  it('refuses a no_master server with 409', async () => {
    const c = await controller();
    const res = await setMaster(c, 'mysql3');
    expect(res.statusCode).toBe(409);
    expect(errorOf(res.body).code).toBe('PULLOVER_NOT_ELIGIBLE');
    expect(c.publisher.version).toBe(1);
  });

  it('publishes nothing and keeps the state when the save fails', async () => {
    const dir = await tempDir();
    const files = new FileStore(join(dir, 'state'));
    let failing = false;
    const store: Store = {
      location: files.location,
      load: () => files.load(),
      save: async (state) => {
        if (failing) throw new Error('ENOSPC: no space left on device');
        await files.save(state);
      },
    };
    const c = await controller({ store }, dir);
    failing = true;
    const pending = poll(c, 'after=1&wait=0.5');
    const res = await setMaster(c, 'mysql2');
    expect(res.statusCode).toBe(500);
    expect(errorOf(res.body)).toMatchObject({ code: 'PULLOVER_STATE_WRITE' });
    expect(errorOf(res.body).message).toContain('ENOSPC');
    expect((await pending).statusCode).toBe(204);
    expect(c.publisher.version).toBe(1);
    expect(c.keeper.state.clusters.myservice?.master).toBe('mysql1');
    failing = false;
    expect((await setMaster(c, 'mysql2')).json()).toMatchObject({ version: 2, changed: true });
  });

  it('serializes concurrent calls: each builds on the previous version', async () => {
    const c = await controller();
    const [a, b] = await Promise.all([setMaster(c, 'mysql2'), setMaster(c, 'mysql1')]);
    expect([a.json().version, b.json().version]).toEqual([2, 3]);
    expect(c.keeper.state.clusters.myservice?.master).toBe('mysql1');
  });

  it('rejects an unknown body field and a bad cluster name with 400', async () => {
    const c = await controller();
    const extra = await setMaster(c, 'mysql2', 'myservice', { force: true });
    expect(extra.statusCode).toBe(400);
    expect(errorOf(extra.body).message).toBe('body.force: unknown field');
    const name = await setMaster(c, 'mysql2', 'bad%20name');
    expect(name.statusCode).toBe(400);
    expect(errorOf(name.body).message).toMatch(/^params\.cluster: /);
  });
});

describe('state across restarts', () => {
  it('a new app on the same state dir resumes with the same master and version', async () => {
    const dir = await tempDir();
    const first = await controller({}, dir);
    await setMaster(first, 'mysql2');
    await setMaster(first, 'mysql1');
    await setMaster(first, 'mysql2');
    await first.app.close();

    const second = await controller({}, dir);
    expect(second.publisher.version).toBe(4);
    const mapping = Mapping.parse((await poll(second, 'after=0')).json());
    expect(mapping.clusters[0]?.master).toBe('mysql2');
    expect((await setMaster(second, 'mysql1')).json().version).toBe(5);
  });

  it('refuses a corrupt state.json with a StateError and leaves it untouched', async () => {
    const dir = await tempDir();
    await (await controller({}, dir)).app.close();
    const file = join(dir, 'state', 'state.json');
    await writeFile(file, '{"format": 1, "version": 7, "issued_');
    await expect(openTest(dir)).rejects.toThrow(StateError);
    await expect(openTest(dir)).rejects.toThrow(/state\.json is not valid JSON .* Restore it from a backup/);
    expect(await readFile(file, 'utf8')).toBe('{"format": 1, "version": 7, "issued_');
  });
});

describe('auth', () => {
  it('401 without a token and with an unknown one, 403 for an agent token on admin endpoints', async () => {
    const c = await controller();
    const none = await c.app.inject({ method: 'GET', url: '/v1/mapping' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(errorOf(none.body).code).toBe('PULLOVER_UNAUTHORIZED');
    const bad = await c.app.inject({
      method: 'GET',
      url: '/v1/status',
      headers: { authorization: 'Bearer not-a-known-token-at-all' },
    });
    expect(bad.statusCode).toBe(401);
    const status = await c.app.inject({ method: 'GET', url: '/v1/status', headers: agentAuth });
    expect(status.statusCode).toBe(403);
    expect(errorOf(status.body).code).toBe('PULLOVER_FORBIDDEN');
    const set = await setMaster(c, 'mysql2', 'myservice', {}, agentAuth);
    expect(set.statusCode).toBe(403);
    expect(c.publisher.version).toBe(1);
    const admin = await c.app.inject({ method: 'GET', url: '/v1/status', headers: adminAuth });
    expect(admin.statusCode).toBe(200);
    const adminPoll = await c.app.inject({ method: 'GET', url: '/v1/mapping', headers: adminAuth });
    expect(adminPoll.statusCode).toBe(200);
  });

  it('a viewer token reads status, history and events, and nothing else', async () => {
    const c = await controller();
    const get = (url: string) => c.app.inject({ method: 'GET', url, headers: viewerAuth });
    for (const url of ['/v1/status', '/v1/history', '/v1/events']) expect((await get(url)).statusCode, url).toBe(200);
    const poll = await get('/v1/mapping');
    expect(poll.statusCode).toBe(403);
    expect(errorOf(poll.body).message).toBe('this endpoint needs an agent token; a viewer token was sent');
    const set = await setMaster(c, 'mysql2', 'myservice', {}, viewerAuth);
    expect(set.statusCode).toBe(403);
    expect(errorOf(set.body).message).toBe('this endpoint needs an admin token; a viewer token was sent');
    expect(c.publisher.version).toBe(1);
    const events = await c.app.inject({ method: 'GET', url: '/v1/events', headers: agentAuth });
    expect(events.statusCode).toBe(403);
  });

  it('serves /healthz and /metrics without a token', async () => {
    const c = await controller();
    expect((await c.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
      version: 1,
    });
    const metrics = await c.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toContain('\npullover_mapping_version 1\n');
  });
});

describe('GET /v1/events', () => {
  function events(c: Controller, query = '') {
    return c.app.inject({ method: 'GET', url: `/v1/events${query}`, headers: adminAuth });
  }

  it('lists what the controller decided, each sentence once, with its cluster', async () => {
    const c = await controller();
    await setMaster(c, 'mysql2', 'myservice', { reason: 'maintenance' });
    await c.app.inject({ method: 'POST', url: '/v1/agents/app1/report', headers: agentAuth, payload: report(2) });
    const answer = EventsResponse.parse((await events(c)).json());
    expect(answer.events.map((e) => [e.cluster, e.message])).toEqual([
      ['myservice', 'first start myservice: mysql-master.myservice.com now → mysql1 (200.200.200.1), version 1'],
      ['myservice', 'set-master myservice: mysql-master.myservice.com now → mysql2 (200.200.200.2), version 2 (reason: maintenance)'],
      [null, expect.stringMatching(/^agent app1 reports from .*, applied version 2$/)],
    ]);
    expect(EventsResponse.parse((await events(c, `?after=${answer.next}`)).json()).events).toEqual([]);
  });

  it('holds the request until the next event', async () => {
    const c = await controller();
    const held = events(c, '?after=1&wait=10&cluster=myservice');
    await new Promise((r) => setTimeout(r, 50));
    await setMaster(c, 'mysql2');
    const answer = EventsResponse.parse((await held).json());
    expect(answer.events.map((e) => e.message)).toEqual([expect.stringContaining('now → mysql2')]);
  });

  it('rejects a bad query with 400 naming the field', async () => {
    const c = await controller();
    const res = await events(c, '?wait=600');
    expect(res.statusCode).toBe(400);
    expect(errorOf(res.body).message).toMatch(/wait/);
  });
});

describe('POST /v1/agents/:name/report', () => {
  function send(c: Controller, name: string, payload: unknown, headers: object = agentAuth) {
    return c.app.inject({
      method: 'POST',
      url: `/v1/agents/${name}/report`,
      headers: { ...headers },
      payload: payload as object,
    });
  }

  it('records the report; status and metrics show the agent as current', async () => {
    const log = logCapture('debug');
    const c = await controller({ logger: log.logger });
    expect((await send(c, 'app1', report(1))).statusCode).toBe(204);
    expect((await send(c, 'app2', report(0))).statusCode).toBe(204);
    const status = Status.parse(
      (await c.app.inject({ method: 'GET', url: '/v1/status', headers: adminAuth })).json(),
    );
    expect(status.agents_total).toBe(2);
    expect(status.agents_current).toBe(1);
    expect(status.agents[0]).toMatchObject({
      name: 'app1',
      applied_version: 1,
      current: true,
      remote_address: '127.0.0.1',
    });
    expect(status.agents[1]).toMatchObject({ name: 'app2', applied_version: 0, current: false });
    expect(status.clusters[0]).toMatchObject({ name: 'myservice', master: 'mysql1' });

    await setMaster(c, 'mysql2');
    await send(c, 'app1', report(2));
    // Per agent at debug: at info, the whole fleet's progress is one line (fleet-log.test.ts).
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 20, msg: 'agent app1 applied version 2' }));
    const metrics = (await c.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('pullover_mapping_version 2\n');
    expect(metrics).toContain('pullover_agent_applied_version{agent="app1"} 2\n');
    expect(metrics).toContain('pullover_agent_applied_version{agent="app2"} 0\n');
    expect(metrics).toContain('pullover_agents_current 1\n');
    expect(metrics).toContain('pullover_agents_by_applied_version{version="0"} 1\npullover_agents_by_applied_version{version="2"} 1\n');
    expect(metrics).toContain('pullover_agent_reports_received_total 3\n');
  });

  it('logs when an agent loses the master', async () => {
    const log = logCapture();
    const c = await controller({ logger: log.logger });
    await send(c, 'app1', report(1));
    const lost = report(1);
    lost.masters = [{ ...report(1).masters[0], reachable: false, detail: 'connect ECONNREFUSED' } as never];
    await send(c, 'app1', lost);
    expect(log.messages()).toContain(
      'agent app1 cannot reach myservice\'s master at 200.200.200.1:3306: connect ECONNREFUSED',
    );
  });

  it('rejects an unknown field, a bad name, and an oversized body', async () => {
    const c = await controller();
    const extra = await send(c, 'app1', { ...report(1), hostname: 'app1' });
    expect(extra.statusCode).toBe(400);
    expect(errorOf(extra.body).message).toBe('body.hostname: unknown field');
    const missing = await send(c, 'app1', { ...report(1), applied_version: undefined });
    expect(errorOf(missing.body).message).toBe('body.applied_version: missing');
    const name = await send(c, 'app%201', report(1));
    expect(name.statusCode).toBe(400);
    expect(errorOf(name.body).message).toMatch(/^params\.name: letters, digits/);
    const big = await send(c, 'app1', { ...report(1), error: 'x'.repeat(MAX_REPORT_BYTES) });
    expect(big.statusCode).toBe(413);
    expect(errorOf(big.body).message).toBe(`request body is larger than ${MAX_REPORT_BYTES} bytes`);
    expect(c.registry.size).toBe(0);
  });

  it('answers malformed JSON, a text body and prototype poisoning with a 400 ErrorBody', async () => {
    const c = await controller();
    const url = '/v1/agents/app1/report';
    const json = { ...agentAuth, 'content-type': 'application/json' };
    const broken = await c.app.inject({
      method: 'POST',
      url,
      headers: json,
      payload: '{"applied_version": ',
    });
    expect(broken.statusCode).toBe(400);
    expect(errorOf(broken.body).code).toMatch(/^FST_ERR_CTP_/);
    const text = await c.app.inject({
      method: 'POST',
      url,
      headers: { ...agentAuth, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(400);
    expect(errorOf(text.body).message).toBe('body: Invalid input: expected object, received string');
    const proto = await c.app.inject({
      method: 'POST',
      url,
      headers: json,
      payload: `{"applied_version": 1, "__proto__": {"admin": true}}`,
    });
    expect(proto.statusCode).toBe(400);
    expect(c.registry.size).toBe(0);
  });

  it('checks the token before reading the body', async () => {
    const c = await controller();
    const res = await send(c, 'app1', { ...report(1), error: 'x'.repeat(MAX_REPORT_BYTES) }, {});
    expect(res.statusCode).toBe(401);
  });
});

describe('failover routes', () => {
  function record(id: string, outcome: FailoverRecord['outcome']): FailoverRecord {
    const done = outcome !== 'running';
    return {
      id,
      cluster: 'myservice',
      trigger: 'auto',
      old_master: 'mysql1',
      new_master: 'mysql2',
      started_at: '2025-01-02T03:04:05.000Z',
      finished_at: done ? '2025-01-02T03:04:07.500Z' : null,
      outcome,
      version: done ? 2 : null,
      reason: 'mysql1 is dead: 3 pings failed (connection refused: ECONNREFUSED)',
      steps: [{ name: 'detected', at: '2025-01-02T03:04:05.000Z', ms: 800, detail: 'first failed ping of mysql1' }],
    };
  }

  function call(c: Controller, method: 'GET' | 'POST', url: string, payload?: object, headers = adminAuth) {
    return c.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  }

  async function status(c: Controller) {
    return Status.parse((await call(c, 'GET', '/v1/status')).json());
  }

  /** The controller's HTTP layer alone, without cluster monitors (a controller that does not monitor MySQL). */
  async function withoutEngine(): Promise<Controller> {
    const c = await controller();
    const app = buildApp({
      keeper: c.keeper,
      publisher: c.publisher,
      registry: c.registry,
      auth: new TokenAuth({ agents: { file: 'agent-tokens', lines: [{ line: 1, token: AGENT_TOKEN }] }, admin: [ADMIN_TOKEN] }),
    });
    const bare = { ...c, app };
    open.push(bare);
    return bare;
  }

  it('GET /v1/history lists the filed failovers, then the running one, to admins only', async () => {
    const c = await controller();
    expect(HistoryResponse.parse((await call(c, 'GET', '/v1/history')).json())).toEqual({ failovers: [] });
    await c.keeper.finishFailover('myservice', record('f1', 'done'));
    await c.keeper.beginFailover('myservice', { record: record('f2', 'running'), target: 'mysql2', donor: null, force: false });
    const history = HistoryResponse.parse((await call(c, 'GET', '/v1/history')).json());
    expect(history.failovers.map((f) => [f.id, f.outcome])).toEqual([
      ['f1', 'done'],
      ['f2', 'running'],
    ]);
    expect((await status(c)).clusters[0]?.failover).toMatchObject({ running: true });

    const agent = await call(c, 'GET', '/v1/history', undefined, agentAuth);
    expect(agent.statusCode).toBe(403);
    expect(errorOf(agent.body).code).toBe('PULLOVER_FORBIDDEN');
    expect((await c.app.inject({ method: 'GET', url: '/v1/history' })).statusCode).toBe(401);
  });

  it('POST /v1/clusters/:cluster/ack lifts the block that follows a failover, and says so', async () => {
    const log = logCapture();
    const c = await controller({ logger: log.logger });
    // Before the monitor's first look: no verdict, nothing observed, automatic failover armed.
    const before = (await status(c)).clusters[0];
    expect(before).toMatchObject({ health: null, failover: { auto: true, blocked_until: null, running: false } });
    expect(before?.servers.map((s) => s.observed)).toEqual([null, null, null]);
    await c.keeper.finishFailover('myservice', record('f1', 'done'));
    const until = (await status(c)).clusters[0]?.failover.blocked_until;
    // min_interval defaults to 8 h.
    expect(Date.parse(until ?? '') - Date.now()).toBeGreaterThan(7.9 * 3600 * 1000);

    const ack = await call(c, 'POST', '/v1/clusters/myservice/ack');
    expect(ack.statusCode).toBe(200);
    expect(AckResponse.parse(ack.json())).toEqual({ cluster: 'myservice', was_blocked_until: until });
    expect((await status(c)).clusters[0]?.failover.blocked_until).toBeNull();
    expect(c.keeper.failoverState('myservice').blocked_until).toBeNull();
    expect(log.messages()).toContain(
      `myservice: failover block lifted by ack (it would have ended at ${until}); automatic failover is armed again`,
    );

    const again = await call(c, 'POST', '/v1/clusters/myservice/ack');
    expect(again.json()).toEqual({ cluster: 'myservice', was_blocked_until: null });
    expect(log.messages()).toContain('myservice: ack, but automatic failover was not blocked');
  });

  it('pause and resume: durable across a restart, in status, metrics and events; bad input refused', async () => {
    const dir = await tempDir();
    const c = await controller({}, dir);
    const paused = await call(c, 'POST', '/v1/clusters/myservice/pause', { for_s: 1800, reason: 'mysql1 upgrade' });
    expect(paused.statusCode).toBe(200);
    const until = PauseResponse.parse(paused.json()).paused_until;
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(1790 * 1000);
    expect((await status(c)).clusters[0]?.failover).toMatchObject({ paused_until: until, pause_reason: 'mysql1 upgrade' });
    expect((await c.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('pullover_failover_paused{cluster="myservice"} 1\n');
    const said = EventsResponse.parse((await call(c, 'GET', '/v1/events')).json()).events.at(-1);
    expect(said).toMatchObject({ level: 'warn', cluster: 'myservice', message: expect.stringContaining('(reason: mysql1 upgrade)') });

    for (const [body, field] of [[{ for_s: 0 }, 'for_s'], [{ for_s: 8 * 86400 }, 'for_s'], [{}, 'for_s'], [{ for_s: 60, x: 1 }, 'x']] as const) {
      const bad = await call(c, 'POST', '/v1/clusters/myservice/pause', body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
      expect(errorOf(bad.body).message).toContain(field);
    }
    expect((await call(c, 'POST', '/v1/clusters/myservice/pause', { for_s: 60 }, viewerAuth)).statusCode).toBe(403);
    await c.app.close();

    const restarted = await controller({}, dir);
    expect((await status(restarted)).clusters[0]?.failover.paused_until).toBe(until);
    const resumed = await call(restarted, 'POST', '/v1/clusters/myservice/resume');
    expect(ResumeResponse.parse(resumed.json())).toEqual({ cluster: 'myservice', was_paused_until: until });
    expect((await status(restarted)).clusters[0]?.failover.paused_until).toBeNull();
    const again = await call(restarted, 'POST', '/v1/clusters/myservice/resume');
    expect(again.json()).toEqual({ cluster: 'myservice', was_paused_until: null });
  });

  it('ack: unknown cluster 404, bad cluster name 400, agent token 403', async () => {
    const c = await controller();
    const unknown = await call(c, 'POST', '/v1/clusters/other/ack');
    expect([unknown.statusCode, errorOf(unknown.body).code]).toEqual([404, 'PULLOVER_UNKNOWN_CLUSTER']);
    const bad = await call(c, 'POST', '/v1/clusters/bad%20name/ack');
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad.body).message).toMatch(/^params\.cluster: /);
    expect((await call(c, 'POST', '/v1/clusters/myservice/ack', undefined, agentAuth)).statusCode).toBe(403);
  });

  it('POST /v1/clusters/:cluster/failover is refused with 409 by a controller without cluster monitors', async () => {
    const c = await withoutEngine();
    const res = await call(c, 'POST', '/v1/clusters/myservice/failover', { to: 'mysql2', reason: 'test' });
    expect(res.statusCode).toBe(409);
    expect(errorOf(res.body)).toMatchObject({
      code: 'PULLOVER_FAILOVER_REFUSED',
      message: 'no failover of myservice: this controller does not monitor MySQL',
    });
    expect(c.publisher.version).toBe(1);
    const unknown = await call(c, 'POST', '/v1/clusters/other/failover', {});
    expect([unknown.statusCode, errorOf(unknown.body).code]).toEqual([404, 'PULLOVER_UNKNOWN_CLUSTER']);
    expect((await call(c, 'POST', '/v1/clusters/myservice/failover', {}, agentAuth)).statusCode).toBe(403);
  });

  it.each([
    ['an unknown field', { forced: true }, 'body.forced: unknown field'],
    ['a force that is not a boolean', { force: 'yes' }, /^body\.force: /],
    ['a bad server name', { to: 'mysql 2' }, /^body\.to: /],
    ['an overlong reason', { reason: 'x'.repeat(501) }, /^body\.reason: /],
    ['a body that is not an object', ['mysql2'], /^body: /],
  ])('POST /v1/clusters/:cluster/failover answers 400 to %s', async (_name, payload, message) => {
    const c = await withoutEngine();
    const res = await call(c, 'POST', '/v1/clusters/myservice/failover', payload);
    expect(res.statusCode).toBe(400);
    expect(errorOf(res.body)).toMatchObject({ code: 'PULLOVER_BAD_REQUEST' });
    expect(errorOf(res.body).message).toMatch(message);
  });
});

it('answers unknown endpoints with a 404 ErrorBody', async () => {
  const c = await controller();
  const res = await c.app.inject({ method: 'GET', url: '/v2/nothing' });
  expect(res.statusCode).toBe(404);
  expect(errorOf(res.body)).toMatchObject({ code: 'PULLOVER_NOT_FOUND' });
});

describe('admin writes and the leadership (several controllers)', () => {
  it('a follower refuses a write before it begins (421, the leader named); a leader deposed during one answers 503, not to be re-sent', async () => {
    let deposed = false;
    const store: Store = {
      location: 'etcd test',
      load: async () => null,
      save: async () => {
        if (deposed) throw new NotLeader('the leader key changed while the state was written');
      },
    };
    const c = await controller({ store });
    let acting = false;
    const leader = { name: 'c2', url: 'https://c2.internal:7420', term: 41 };
    const authority: Authority = {
      mode: 'etcd',
      term: 40,
      timeLeftMs: () => (acting ? 5000 : 0),
      assertActing: () => {
        if (!acting) throw new NotLeader('c2 leads', leader);
      },
    };
    const app = buildApp({ keeper: c.keeper, publisher: c.publisher, registry: c.registry, auth: c.auth, authority });
    open.push({ ...c, app });
    const send = () => setMaster({ ...c, app }, 'mysql2');
    const refused = await send();
    expect({ status: refused.statusCode, body: errorOf(refused.body) }).toMatchObject({
      status: 421,
      body: { code: 'PULLOVER_NOT_LEADER', leader },
    });
    acting = true;
    deposed = true;
    const lost = await send();
    expect({ status: lost.statusCode, code: errorOf(lost.body).code }).toEqual({ status: 503, code: 'PULLOVER_DEPOSED' });
    // Nothing was published by the deposed leader.
    expect(c.publisher.version).toBe(1);
  });
});
