// examples/alerts.yml, checked by Prometheus's own promtool (Debian's prometheus package ships it;
// CI installs it: a missing promtool fails here, it is never skipped): the rules parse, each alert
// fires on what should page and not on its look-alikes, and the controller's live /metrics passes
// promtool's lint, with every metric the rules name present.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from './support/fleet.js';
import { eventually, ROOT } from './support/processes.js';

const RULES = join(ROOT, 'examples/alerts.yml');

function promtool(args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', args, { cwd: ROOT }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('promtool is not installed: apt-get install prometheus (Debian ships promtool with it)'));
        return;
      }
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('the Prometheus alerting rules', () => {
  it('pass promtool check rules', async () => {
    const { code, out } = await promtool(['check', 'rules', RULES]);
    expect(out).toContain('SUCCESS: 8 rules found');
    expect(code).toBe(0);
  });

  it('fire on what should page, with their runbook line, and not on the look-alikes (promtool test rules)', async () => {
    const { code, out } = await promtool(['test', 'rules', 'test/fixtures/alerts-test.yml']);
    expect(out).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('each alert says what to run first', async () => {
    const text = await readFile(RULES, 'utf8');
    expect(text.match(/^ {6}- alert: /gm)).toHaveLength(8);
    expect(text.match(/^ {10}runbook: /gm)).toHaveLength(8);
  });
});

describe('the live /metrics', () => {
  let fleet: Fleet;
  let metrics: string;
  beforeAll(async () => {
    fleet = await Fleet.create({ agents: 1 });
    await fleet.startController();
    await fleet.startAgent(fleet.agents[0]!);
    await eventually(async () => (await fleet.status()).agents.length === 1, 10_000, 'the agent\'s report');
    // The monitor's first verdict (nothing listens at the servers' addresses: the controller is cut off).
    await eventually(async () => (await (await fleet.fetch('/metrics')).text()).includes('pullover_master_state{'), 10_000, 'a verdict');
    metrics = await (await fleet.fetch('/metrics')).text();
  });
  afterAll(() => fleet?.destroy());

  it('passes promtool check metrics', async () => {
    const { code, out } = await promtool(['check', 'metrics'], metrics);
    expect(out).toBe('');
    expect(code).toBe(0);
  });

  it('declares every pullover metric the rules name (a server\'s read_only once it is observed)', async () => {
    const named = new Set((await readFile(RULES, 'utf8')).match(/\bpullover_[a-z_]+/g));
    expect(named.size).toBeGreaterThan(5);
    for (const name of named) expect(metrics, name).toMatch(new RegExp(`^# HELP ${name} `, 'm'));
    expect(metrics).toContain('pullover_master_state{cluster="myservice",state="controller-isolated"} 1');
    expect(metrics).toContain('pullover_server_fenced{cluster="myservice",server="mysql1"} 0');
  });
});
