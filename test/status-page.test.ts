import { existsSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realCluster, startFailoverFleet, waitAgentsOn } from './support/failover-fleet.js';
import { Fleet } from './support/fleet.js';
import type { Cluster, Server } from './support/mariadb.js';
import { eventually, ROOT } from './support/processes.js';

const CHROMIUM = '/usr/bin/chromium';
/** Set to a directory to keep the screenshots (to look at the picture); otherwise they are only taken. */
const SCREENSHOTS = process.env.PULLOVER_SCREENSHOTS;

/**
 * What a user sees, read from the page's data attributes and text. A string, not a function:
 * the page runs it as written, with nothing a test transform added.
 */
const SEEN = `(() => {
  const all = (selector) => [...document.querySelectorAll(selector)];
  const visible = (selector) => { const e = document.querySelector(selector); return e !== null && !e.closest('[hidden]'); };
  return {
    headline: document.querySelector('[data-headline-master]')?.textContent ?? null,
    servers: Object.fromEntries(all('[data-server]').map((g) => [g.dataset.server, {
      role: g.dataset.role, state: g.dataset.state, lag: g.dataset.lag ?? null, text: g.textContent,
    }])),
    arrows: all('[data-arrow]').map((a) => a.dataset.from + ' → ' + a.dataset.to).sort(),
    agents: Object.fromEntries(all('[data-agent]').map((a) => [a.dataset.agent, a.dataset.state + ' v' + a.dataset.version])),
    count: document.querySelector('[data-agents-count]')?.textContent ?? null,
    blind: all('[data-blind]').map((b) => b.closest('[data-agent]').dataset.agent),
    banners: all('[data-banner]').map((b) => b.dataset.banner),
    events: visible('[data-events]') ? all('#event-list li').map((li) => li.textContent) : null,
    message: visible('[data-message]') ? document.querySelector('[data-message]').textContent : null,
    form: visible('[data-login]'),
  };
})()`;

interface Seen {
  headline: string | null;
  servers: Record<string, { role: string; state: string; lag: string | null; text: string }>;
  arrows: string[];
  agents: Record<string, string>;
  count: string | null;
  blind: string[];
  banners: string[];
  events: string[] | null;
  message: string | null;
  form: boolean;
}

const seen = (page: Page) => page.evaluate(SEEN) as Promise<Seen>;

/** What Chromium complained about: script errors, CSP refusals, failed loads. */
function complaints(page: Page): string[] {
  const said: string[] = [];
  page.on('pageerror', (error) => said.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') said.push(message.text());
  });
  return said;
}

async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  if (SCREENSHOTS) await writeFile(join(SCREENSHOTS, `${name}.png`), png);
}

describe('the status page in headless Chromium, against a live controller', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let browser: Browser;
  realCluster(26, (c) => {
    cluster = c;
    [mysql1, mysql2] = c.servers as [Server, Server];
  });

  beforeAll(async () => {
    // Not skipped without a browser: a page nobody has loaded is a page nobody has tested.
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Without the background-networking flags Chromium floods a closed network with lookups.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => browser?.close());

  it('asks for a token, says why one is refused, and keeps it out of the address bar', async () => {
    const fleet = await Fleet.create({ agents: 1 }); // its token only: the agent is not started
    const page = await browser.newPage();
    const said = complaints(page);
    try {
      await fleet.startController();
      const admin = (await readFile(fleet.adminTokenFile, 'utf8')).trim();
      const agent = fleet.agents[0]?.token ?? '';

      await page.goto(`${fleet.url}/ui`);
      await expect.poll(() => seen(page)).toMatchObject({ form: true, message: null, headline: null });

      // Only the fragment changes: no load, the page takes the token on hashchange.
      await page.goto(`${fleet.url}/ui#token=not-a-token-of-this-controller`);
      await expect.poll(() => page.url()).toBe(`${fleet.url}/ui`);
      await expect.poll(async () => (await seen(page)).message).toMatch(/refused this token \(unknown token/);
      expect((await seen(page)).form).toBe(true);

      await page.fill('#token', agent);
      await page.press('#token', 'Enter');
      await expect.poll(async () => (await seen(page)).message).toMatch(/it is an agent token/);

      await page.fill('#token', admin);
      await page.click('button[type=submit]');
      await expect.poll(() => seen(page)).toMatchObject({ form: false, message: null, headline: 'mysql1' });
      // Kept for the tab: a reload needs no token in the URL.
      await page.reload();
      await expect.poll(async () => (await seen(page)).headline).toBe('mysql1');
      expect(page.url()).not.toContain(admin);
      // An operator's pause shows without a reload (the event wakes the page), and goes away on resume.
      expect((await fleet.admin(['pause', '--cluster', 'myservice', '--for', '1h', '--reason', 'kernel update'])).code).toBe(0);
      await expect.poll(async () => (await seen(page)).banners).toEqual(['failover-paused']);
      expect(await page.textContent('[data-banner=failover-paused]')).toMatch(/paused until .*\(kernel update\)/);
      expect((await fleet.admin(['resume', '--cluster', 'myservice'])).code).toBe(0);
      await expect.poll(async () => (await seen(page)).banners).toEqual([]);
      // Chromium reports each refused request; nothing else may go wrong (a CSP refusal, a script error).
      expect(said.filter((line) => !/status of 40[13] \(Unauthorized|Forbidden\)/.test(line))).toEqual([]);
    } finally {
      await page.close();
      await fleet.destroy();
    }
  });

  it('draws master, replicas and agents, then a failover as it happens, without a reload', async () => {
    const fleet = await startFailoverFleet(cluster);
    const token = (await readFile(fleet.adminTokenFile, 'utf8')).trim();
    const { version } = await fleet.status();
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const said = complaints(page);
    try {
      await page.goto(`${fleet.url}/ui#token=${token}`);
      expect(page.url()).toBe(`${fleet.url}/ui`);
      await page.evaluate('window.notReloaded = true');

      await expect.poll(() => seen(page), { timeout: 10_000 }).toMatchObject({
        headline: 'mysql1',
        servers: {
          mysql1: { role: 'master', state: 'ok' },
          mysql2: { role: 'replica', state: 'ok', lag: '0' },
          mysql3: { role: 'replica', state: 'ok', lag: '0' },
        },
        arrows: ['mysql1 → mysql2', 'mysql1 → mysql3'],
        agents: { app1: `current v${version}`, app2: `current v${version}` },
        count: `2 of 2 agents on version ${version}.`,
        blind: [],
        banners: [],
      });
      const before = await seen(page);
      expect(before.servers.mysql1?.text).toMatch(/MASTER · 127\.0\.26\.1.*writable/);
      expect(before.servers.mysql2?.text).toMatch(/lag 0 s.*IO yes · SQL yes.*read_only.*candidate/);
      expect(before.events?.length).toBeGreaterThan(0);
      await screenshot(page, 'before');

      await mysql1.kill('SIGKILL');
      await waitAgentsOn(fleet, mysql2);
      await expect.poll(() => seen(page), { timeout: 15_000 }).toMatchObject({
        headline: 'mysql2',
        servers: {
          mysql1: { role: 'replica', state: 'unreachable' },
          mysql2: { role: 'master', state: 'ok' },
          mysql3: { role: 'replica', state: 'ok' },
        },
        arrows: ['mysql2 → mysql3'],
        agents: { app1: `current v${version + 1}`, app2: `current v${version + 1}` },
        count: `2 of 2 agents on version ${version + 1}.`,
        // What they said of the dead mysql1 is not held against the new master.
        blind: [],
        banners: ['failover-blocked'],
      });
      const after = await seen(page);
      expect(after.servers.mysql1?.text).toMatch(/UNREACHABLE/);
      // The former master is kept read-only until it rejoins: the picture says so.
      expect(after.servers.mysql1?.text).toMatch(/fenced/);
      // Newest first: the failover's story reads bottom to top, as it happened.
      const events = after.events ?? [];
      const story = [
        /agents-applied in \d+ ms: 2 of 2 live agent\(s\) applied version/,
        /promoted in \d+ ms: mysql2 is writable/,
        /fenced in \d+ ms: mysql1 unreachable/,
        /failing over from mysql1: promote mysql2/,
        /mysql1 is dead/,
      ].map((sentence) => events.findIndex((e) => sentence.test(e)));
      expect(story.every((at, i) => at >= 0 && (i === 0 || at > story[i - 1]!)), events.join('\n')).toBe(true);
      expect(await page.evaluate('window.notReloaded')).toBe(true);
      await screenshot(page, 'after');
      expect(said).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('mid-failover, as the README shows it; an unbound agent is marked as such', async () => {
    // app3's agent is stopped: still live for the controller, it holds the failover in its last
    // step (agents-applied) for agents_timeout, long enough to see a failover under way.
    const fleet = await startFailoverFleet(cluster, { agents: 3, clusterExtra: '    failover: { agents_timeout: 20s }\n' });
    const token = (await readFile(fleet.adminTokenFile, 'utf8')).trim();
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const said = complaints(page);
    try {
      await page.goto(`${fleet.url}/ui#token=${token}`);
      await expect.poll(async () => (await seen(page)).count, { timeout: 10_000 }).toMatch(/^3 of 3 agents/);
      await fleet.agents[2]!.proc!.kill('SIGKILL');
      await mysql1.kill('SIGKILL');
      await expect.poll(() => seen(page), { timeout: 15_000 }).toMatchObject({
        headline: 'mysql2',
        banners: ['failover-running'],
        agents: {
          app1: expect.stringMatching(/^current/),
          app2: expect.stringMatching(/^current/),
          app3: expect.stringMatching(/^behind/),
        },
        count: expect.stringMatching(/^2 of 3 agents/),
      });
      expect(await page.textContent('[data-agents-summary]')).not.toContain('null');
      const png = await page.screenshot({ fullPage: true });
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      // The committed picture is rewritten on request only: a test run leaves the repository as it was.
      if (process.env.PULLOVER_README_PICTURE) await writeFile(join(ROOT, 'docs/status-page.png'), png);

      // A bare-token line (the first format): its agent shows, marked unbound.
      const legacy = 'legacy-shared-token-0123456789';
      await appendFile(fleet.agentTokenFile, `${legacy}\n`);
      const report = { applied_version: 1, block_hash: 'a'.repeat(64), hosts_file: '/etc/hosts', masters: [], agent_version: '0.1.0' };
      await eventually(async () => (await fleet.fetch('/v1/agents/legacy1/report', {
        method: 'POST',
        headers: { 'authorization': `Bearer ${legacy}`, 'content-type': 'application/json' },
        body: JSON.stringify(report),
      })).status === 204, 5000, 'the bare line read');
      await expect.poll(() => page.evaluate(`[
        document.querySelector('[data-agent=legacy1]')?.dataset.bound,
        document.querySelector('[data-agent=legacy1] [data-unbound]')?.textContent,
        document.querySelector('[data-unbound-count]')?.dataset.unboundCount,
        document.querySelector('[data-agent=app1]')?.dataset.bound,
      ]`), { timeout: 10_000 }).toEqual(['false', 'unbound', '1', 'true']);
      expect(said).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
