import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Mapping } from '@pullover/protocol';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../../test/support/tls.js';
import { loadConfig, type RunningController, startController } from '../src/index.js';
import { ADMIN_TOKEN, agentAuth, configDoc, LOOPBACK_CLUSTER, namedAuth, tempDir, writeSecrets } from './helpers.js';

const running: RunningController[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.close()));
});

async function start(dir: string, extra: object = {}) {
  await writeSecrets(dir);
  const file = join(dir, 'controller.yaml');
  await writeFile(file, JSON.stringify({ ...configDoc(dir, [LOOPBACK_CLUSTER]), ...extra }));
  const controller = await startController(await loadConfig(file), { logger: false });
  running.push(controller);
  // No mysqld listens on 127.0.99.x: the first round fails its ping and asks the agents for their
  // view, ending every parked poll. The tests park theirs after it (the next ask is 10 s later).
  while (!controller.monitors.monitor('myservice')?.health) await new Promise((r) => setTimeout(r, 10));
  return controller;
}

describe('listening on a real port', () => {
  it('serves the mapping over plain HTTP on port 0', async () => {
    const c = await start(await tempDir());
    expect(c.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await request(`${c.url}/v1/mapping?after=0`, { headers: agentAuth });
    expect(res.statusCode).toBe(200);
    expect(Mapping.parse(await res.body.json()).version).toBe(1);
  });

  it('closes even with a connection that never sent a request (a start-up rush leftover)', async () => {
    const c = await start(await tempDir());
    const { port } = new URL(c.url);
    const silent = connect(Number(port), '127.0.0.1');
    await once(silent, 'connect');
    running.splice(running.indexOf(c), 1);
    const started = Date.now();
    await c.close();
    silent.destroy();
    expect(Date.now() - started).toBeLessThan(6000);
  }, 15_000);

  it('answers parked polls with 503 when it closes', async () => {
    const c = await start(await tempDir());
    const parked = request(`${c.url}/v1/mapping?after=1&wait=60`, { headers: agentAuth });
    while (c.publisher.parked === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await c.close();
    const res = await parked;
    expect(res.statusCode).toBe(503);
    expect(await res.body.json()).toMatchObject({ code: 'PULLOVER_CLOSING' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('drops the waiter of a client that disconnects', async () => {
    const c = await start(await tempDir());
    const abort = new AbortController();
    const parked = request(`${c.url}/v1/mapping?after=1&wait=60`, {
      headers: agentAuth,
      signal: abort.signal,
    });
    while (c.publisher.parked === 0) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await expect(parked).rejects.toThrow();
    for (let i = 0; i < 100 && c.publisher.parked > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(c.publisher.parked).toBe(0);
  });

  it('answers the agents\' polls on the socket as the app answers any request: refusals, a parked poll, HEAD', async () => {
    const c = await start(await tempDir());
    const get = (path: string, headers: Record<string, string> = {}) => request(`${c.url}${path}`, { headers });
    const none = await get('/v1/mapping?after=0');
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(await none.body.json()).toMatchObject({ statusCode: 401, code: 'PULLOVER_UNAUTHORIZED', error: 'Unauthorized' });
    const block = 'a'.repeat(64);
    const impostor = await get(`/v1/mapping?after=1&agent=web2&block=${block}`, namedAuth('web1'));
    expect(impostor.statusCode).toBe(403);
    expect((await impostor.body.json()) as object).toMatchObject({ code: 'PULLOVER_WRONG_AGENT' });
    const unknown = await get('/v1/mapping?after=0&since=3', agentAuth);
    expect(unknown.statusCode).toBe(400);
    expect(await unknown.body.json()).toMatchObject({ code: 'PULLOVER_BAD_REQUEST', message: 'query.since: unknown field' });
    // Not the endpoint's path: fastify's 404, as before.
    expect((await (await get('/v1/mapping/', agentAuth)).body.json()) as object).toMatchObject({ code: 'PULLOVER_NOT_FOUND' });
    const head = await request(`${c.url}/v1/mapping?after=0`, { method: 'HEAD', headers: agentAuth });
    expect(head.statusCode).toBe(200);
    await head.body.dump();

    const parked = get(`/v1/mapping?after=1&wait=60&agent=web1&block=${block}`, namedAuth('web1'));
    while (c.publisher.parked === 0) await new Promise((r) => setTimeout(r, 10));
    expect(c.registry.get('web1')?.report.applied_version).toBe(1);
    const moved = await request(`${c.url}/v1/clusters/myservice/set-master`, {
      method: 'POST',
      headers: { 'authorization': `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ server: 'mysql2' }),
    });
    expect(moved.statusCode).toBe(200);
    await moved.body.dump();
    const res = await parked;
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const mapping = Mapping.parse(await res.body.json());
    expect(mapping.version).toBe(2);
    expect(mapping.clusters[0]?.master).toBe('mysql2');
  });

  it('serves HTTPS when tls is configured; a client without the CA is refused', async () => {
    const dir = await tempDir();
    selfSignedCert(dir, 'tls', 'localhost', 'IP:127.0.0.1');
    const c = await start(dir, { tls: { cert_file: 'tls.crt', key_file: 'tls.key' } });
    expect(c.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const trusting = new Agent({ connect: { ca: await readFile(join(dir, 'tls.crt'), 'utf8') } });
    const res = await request(`${c.url}/v1/mapping`, { headers: agentAuth, dispatcher: trusting });
    expect(res.statusCode).toBe(200);
    expect(Mapping.parse(await res.body.json()).version).toBe(1);
    await trusting.close();
    await expect(request(`${c.url}/healthz`)).rejects.toThrow(/self-signed certificate/);
    await expect(request(`${c.url.replace('https', 'http')}/healthz`)).rejects.toThrow();
  });
});

describe('one controller per state dir', () => {
  it('refuses a second controller on the same state dir, naming the holder, and lets one start once the first closed', async () => {
    const dir = await tempDir();
    const first = await start(dir);
    await expect(start(dir)).rejects.toThrow(new RegExp(`is in use by another pullover-controller \\(pid ${process.pid}, holding .*controller\\.lock\\)`));
    await first.close();
    running.splice(running.indexOf(first), 1);
    const again = await start(dir);
    expect(again.url).toMatch(/^http:/);
  });
});
