import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/**
 * The page and its assets hold no data (it comes from /v1/status and /v1/events with the
 * operator's token), so they are public. Strict CSP: nothing inline, nothing from elsewhere, so
 * a server or event name that slipped past the escaping still could not run as script.
 */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    'default-src \'none\'; script-src \'self\'; style-src \'self\'; connect-src \'self\'; img-src \'self\' data:; '
    + 'base-uri \'none\'; form-action \'none\'; frame-ancestors \'none\'',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // Revalidated on each load: after an upgrade, page and script must come from the same version.
  'cache-control': 'no-cache',
};

/**
 * Every file served, by URL. A fixed table rather than a directory: no request path ever
 * becomes a file path, so `/ui/../package.json` has nothing to traverse.
 */
const ASSETS: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/ui': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/agents.js': { file: 'agents.js', type: 'text/javascript; charset=utf-8' },
  '/ui/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/ui/topology.js': { file: 'topology.js', type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

// src/http/routes/ and dist/http/routes/ both sit three levels below the package root, where ui/ is.
const UI_DIR = new URL('../../../ui/', import.meta.url);

export const statusPageRoutes: FastifyPluginAsync = async (app) => {
  const cache = new Map<string, Buffer>();
  const send = async (reply: FastifyReply, url: string) => {
    const asset = ASSETS[url]!;
    let body = cache.get(asset.file);
    if (!body) {
      body = await readFile(new URL(asset.file, UI_DIR));
      cache.set(asset.file, body);
    }
    return reply.headers(STATUS_PAGE_HEADERS).type(asset.type).send(body);
  };

  for (const url of Object.keys(ASSETS)) app.get(url, async (_request, reply) => send(reply, url));
  app.get('/ui/', async (_request, reply) => send(reply, '/ui'));
  app.get('/', async (_request, reply) => reply.redirect('/ui'));
};
