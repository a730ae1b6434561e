import { readdir, readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../src/index.js';
import { ADMIN_TOKEN, AGENT_TOKEN, openTest, tempDir, VIEWER_TOKEN } from './helpers.js';

const CSP =
  'default-src \'none\'; script-src \'self\'; style-src \'self\'; connect-src \'self\'; img-src \'self\' data:; '
  + 'base-uri \'none\'; form-action \'none\'; frame-ancestors \'none\'';

const open: Controller[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.app.close()));
});

async function get(url: string) {
  const c = await openTest(await tempDir());
  open.push(c);
  return c.app.inject({ method: 'GET', url });
}

describe('the status page and its assets', () => {
  it.each([
    ['/ui', 'text/html; charset=utf-8'],
    ['/ui/', 'text/html; charset=utf-8'],
    ['/ui/app.js', 'text/javascript; charset=utf-8'],
    ['/ui/agents.js', 'text/javascript; charset=utf-8'],
    ['/ui/dom.js', 'text/javascript; charset=utf-8'],
    ['/ui/topology.js', 'text/javascript; charset=utf-8'],
    ['/ui/style.css', 'text/css; charset=utf-8'],
  ])('%s is public, served as %s under a strict CSP', async (url, type) => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': type,
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    expect(res.body.length).toBeGreaterThan(100);
  });

  it('/ redirects to the page', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/ui');
  });

  it('the page holds no data: no cluster, server, address, version or token', async () => {
    const c = await openTest(await tempDir());
    open.push(c);
    const page = (await c.app.inject({ method: 'GET', url: '/ui' })).body;
    for (const secret of ['myservice', 'mysql1', 'mysql-master', '200.200.200', ADMIN_TOKEN, AGENT_TOKEN, VIEWER_TOKEN]) {
      expect(page).not.toContain(secret);
    }
    // Nothing inline for the CSP to refuse: the script and the style come from their own files.
    expect(page).toContain('<script type="module" src="/ui/app.js"></script>');
    expect(page).toContain('<link rel="stylesheet" href="/ui/style.css">');
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    // The data needs a token.
    expect((await c.app.inject({ method: 'GET', url: '/v1/status' })).statusCode).toBe(401);
  });

  it.each([
    '/ui/../package.json',
    '/ui/..%2fpackage.json',
    '/ui/%2e%2e/package.json',
    '/ui/%2e%2e%2fpackage.json',
    '/ui/app.js/../../package.json',
    '/ui/index.html',
    '/ui//etc/passwd',
    '/ui/..%5c..%5cpackage.json',
    '/ui/app.js%00.css',
    '/ui/app.js.map',
  ])('%s is a 404, whatever the file system holds', async (url) => {
    const res = await get(url);
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('@pullover/controller');
    expect(res.body).not.toContain('root:');
  });

  it('the scripts build the DOM from text, never from markup', async () => {
    const ui = new URL('../ui/', import.meta.url);
    const scripts = (await readdir(ui)).filter((f) => f.endsWith('.js'));
    expect(scripts).toContain('app.js');
    for (const file of scripts) {
      const script = await readFile(new URL(file, ui), 'utf8');
      expect(script, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    }
  });

  it('every file in ui/ is served, so none is forgotten in the table', async () => {
    const c = await openTest(await tempDir());
    open.push(c);
    for (const file of await readdir(new URL('../ui/', import.meta.url))) {
      const url = file === 'index.html' ? '/ui' : `/ui/${file}`;
      expect((await c.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });
});
