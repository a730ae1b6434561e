import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from './support/fleet.js';
import { CONTROLLER_CLI, eventually, type Proc, startProcess } from './support/processes.js';

// Issue 10: the admin CLI gave up after 15 s on a controller that was working, because its timeouts
// were shorter than the long-polls and the operations it asked for.

const procs: Proc[] = [];
let fleet: Fleet | undefined;
let server: Server | undefined;
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  await fleet?.destroy();
  fleet = undefined;
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('events --follow, against a real controller', () => {
  it('outlasts 60 s of quiet, follows the controller through a SIGKILL and restart, and ends on SIGINT', async () => {
    fleet = await Fleet.create();
    await fleet.startController();
    const f = fleet;
    const follower = await startProcess(
      CONTROLLER_CLI,
      ['events', '--follow', '--url', f.url, '--token-file', f.adminTokenFile],
      f.dir,
      'follower',
    );
    procs.push(follower);
    await eventually(async () => (await follower.log()).includes('cannot observe mysql3'), 10_000, 'the kept events');

    const last = async () => ((await (await f.api('GET', '/v1/events')).json()) as { last: number }).last;
    const before = await last();
    await sleep(60_000);
    // Quiet for real: with an event now and then, even the 15 s client would have lived on.
    expect(await last()).toBe(before);
    expect(follower.running).toBe(true);

    expect((await f.admin(['pause', '--cluster', 'myservice', '--for', '30m', '--reason', 'patience test'])).code).toBe(0);
    await eventually(async () => (await follower.log()).includes('patience test'), 5_000, 'the pause event');

    await f.controller?.kill('SIGKILL');
    await eventually(async () => (await follower.log()).includes('retrying until it answers'), 5_000, 'the lost line');
    await sleep(2_000);
    await f.startController();
    await eventually(
      async () => count(await follower.log(), 'cannot observe mysql3') === 2,
      10_000,
      'the restarted controller\'s events',
    );
    expect((await f.admin(['resume', '--cluster', 'myservice'])).code).toBe(0);
    await eventually(async () => (await follower.log()).includes('resumed: automatic failover'), 5_000, 'the resume event');

    await follower.kill('SIGINT');
    expect(await follower.exited).toBe(0);
    const log = await follower.log();
    expect(log).not.toContain('HEADERS_TIMEOUT');
    expect(count(log, 'cannot reach the controller')).toBe(1);
    expect(count(log, 'it restarted and numbers its events from 1 again')).toBe(1);
    expect(count(log, 'resumed: automatic failover')).toBe(1);
    expect(count(log, 'first start myservice')).toBe(1);
  }, 120_000);
});

/** A controller that answers failover and switchover after `answerMs`, and never answers status. */
async function slowController(answerMs: number): Promise<string> {
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v1/events') {
      // An empty log: the progress follower's holds run their course, as a quiet controller's do.
      const page = { events: [], next: 0, first: 1, last: 0 };
      const timer = setTimeout(() => reply(res, 200, page), Number(url.searchParams.get('wait')) * 1000);
      res.once('close', () => clearTimeout(timer));
      return;
    }
    const operation = /\/(failover|switchover)$/.exec(url.pathname)?.[1];
    if (!operation) return; // status: a hung controller
    const refusal = {
      statusCode: 409,
      code: 'PULLOVER_FAILOVER_REFUSED',
      error: 'Conflict',
      message: `${operation} refused after ${answerMs} ms`,
    };
    setTimeout(() => reply(res, 409, refusal), answerMs);
  };
  const listening = createServer((req, res) => req.resume().once('end', () => handle(req, res)));
  server = listening;
  await new Promise<void>((done) => listening.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(listening.address() as { port: number }).port}`;
}

describe('admin calls wait as long as what they ask for', () => {
  it('failover and switchover wait 20 s for their answer; status on a hung controller gives up at 15 s', async () => {
    fleet = await Fleet.create();
    const f = fleet;
    const url = await slowController(20_000);
    const tokenFile = join(f.dir, 'fake-token');
    await writeFile(tokenFile, 'a'.repeat(48));
    const started = Date.now();
    const cli = async (name: string, args: string[]) => {
      const proc = await startProcess(CONTROLLER_CLI, [...args, '--url', url, '--token-file', tokenFile], f.dir, name);
      procs.push(proc);
      const code = await proc.exited;
      return { code, log: await proc.log(), s: (Date.now() - started) / 1000 };
    };
    const [failover, switchover, status] = await Promise.all([
      cli('failover', ['failover', '--cluster', 'myservice']),
      cli('switchover', ['switchover', '--cluster', 'myservice']),
      cli('status', ['status']),
    ]);
    // The answer, not a timeout: the 15 s client said "cannot reach the controller" here.
    expect(failover.log).toContain('failover refused after 20000 ms');
    expect(failover.s).toBeGreaterThanOrEqual(20);
    expect(switchover.log).toContain('switchover refused after 20000 ms');
    expect(switchover.s).toBeGreaterThanOrEqual(20);
    expect(status.log).toMatch(/cannot reach the controller at .*HEADERS_TIMEOUT: no answer within 15000 ms/);
    expect(status.code).toBe(1);
    expect(status.s).toBeLessThan(20);
  }, 60_000);
});
