import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mapping } from '@pullover/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PulloverAgent } from '../src/agent.js';
import { ControllerClient } from '../src/client.js';
import { AgentConfigSchema } from '../src/config.js';
import { StateFile } from '../src/state.js';
import { FakeController, json } from './fake-controller.js';

const MAPPING: Mapping = {
  version: 1,
  issued_at: '2026-11-23T10:00:00.000Z',
  clusters: [
    { name: 'myservice', master: 'm', port: 1, entries: [{ hostname: 'mysql-master.myservice.com', address: '127.0.10.1' }] },
  ],
};

describe('the poll loop against a controller that is busy or restarting', () => {
  let dir: string;
  let controller: FakeController;
  let agent: PulloverAgent | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-agent-loop-'));
    await writeFile(join(dir, 'hosts'), '127.0.0.1\tlocalhost\n');
    controller = new FakeController();
  });
  afterEach(async () => {
    await agent?.close();
    await controller.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(): Promise<void> {
    const url = await controller.listen();
    const config = AgentConfigSchema.parse({
      name: 'app1',
      controllers: [url],
      token_file: '/unused',
      hosts_file: join(dir, 'hosts'),
      state_dir: join(dir, 'state'),
      watch: false,
      wait: '30s',
      probe_timeout: '100ms',
      backoff: { min: '200ms', max: '2s' },
    });
    agent = new PulloverAgent({
      config,
      clients: [new ControllerClient(url, { token: 't', timeoutMs: 2000 })],
      stateFile: new StateFile(config.state_dir),
      logger: pino({ level: 'silent' }),
    });
    await agent.init();
    controller.start();
    void agent.run();
  }

  const until = async (check: () => boolean, ms = 5000) => {
    const deadline = performance.now() + ms;
    while (!check()) {
      if (performance.now() > deadline) throw new Error(`timed out; seen ${JSON.stringify(controller.seen)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('waits a random while, at most backoff.min, before its first request', async () => {
    controller.answer = (_req, res) => res.writeHead(204).end();
    await run();
    await until(() => controller.seen.length > 0);
    expect(controller.seen[0]).toMatchObject({ method: 'POST', url: '/v1/agents/app1/report' });
    expect(controller.seen[0]?.at).toBeLessThan(200 + 100);
  });

  it('polls at once when its report is shed, and reports again after the Retry-After, ending the hold then', async () => {
    let reports = 0;
    controller.answer = (req, res) => {
      if (req.method === 'POST') {
        reports++;
        if (reports === 1) json(res, 503, { code: 'PULLOVER_BUSY', message: 'overloaded' }, { 'retry-after': '1' });
        else res.writeHead(204).end();
      } else if (req.url?.startsWith('/v1/mapping?after=0')) {
        json(res, 200, MAPPING);
      } else {
        // A parked poll: answered 204 after the hold the agent asked for.
        const wait = Number(new URL(req.url ?? '', 'http://x').searchParams.get('wait'));
        setTimeout(() => res.writeHead(204).end(), wait * 1000).unref();
      }
    };
    await run();
    await until(() => reports === 2, 6000);
    const [shed, first, second, retried] = controller.seen;
    expect(shed?.method).toBe('POST');
    // The shed agent still hears of the mapping at once.
    expect(first?.url).toMatch(/^\/v1\/mapping\?after=0&wait=/);
    expect((first?.at ?? 0) - (shed?.at ?? 0)).toBeLessThan(200);
    // Then it parks only until its report may go again: 1 to 2 s, not its 30 s hold.
    expect(second?.url).toMatch(/^\/v1\/mapping\?after=1&wait=[12]&agent=app1&block=/);
    expect(retried?.method).toBe('POST');
    expect((retried?.at ?? 0) - (shed?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect((retried?.at ?? 0) - (shed?.at ?? 0)).toBeLessThan(3500);
  });

  it('comes back after the Retry-After of a controller that is shutting down, not at once', async () => {
    controller.answer = (req, res, seen) => {
      if (req.method === 'POST') res.writeHead(204).end();
      else if (seen.filter((s) => s.method === 'GET').length === 1) {
        json(res, 503, { code: 'PULLOVER_CLOSING', message: 'shutting down' }, { 'retry-after': '1' });
      } else json(res, 200, MAPPING);
    };
    await run();
    await until(() => agent?.appliedVersion === 1, 6000);
    const gets = controller.seen.filter((s) => s.method === 'GET');
    const closing = gets[0]?.at ?? 0;
    const next = controller.seen.find((s) => s.at > closing)?.at ?? 0;
    expect(next - closing).toBeGreaterThanOrEqual(1000);
    expect(next - closing).toBeLessThan(2500);
  });
});
