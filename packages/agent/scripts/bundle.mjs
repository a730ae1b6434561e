#!/usr/bin/env node
// The agent as one file for app servers that get Node 20 and nothing else: no npm, no node_modules.
//
// CommonJS on purpose: installed as an extensionless /usr/bin/pullover-agent, with no package.json
// around it, Node 20 loads the file as CommonJS, and an ESM bundle would fail there with a syntax
// error. Built from the TypeScript sources (the protocol's too), so never from a stale dist/.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');
// Under dist/, which is already git-ignored, lint-ignored and packed: the tarball ships the bundle too.
export const BUNDLE = join(PACKAGE, 'dist', 'bundle', 'pullover-agent.cjs');

/**
 * undici's index loads fetch, WebSocket, caches and mocks, a third of the bundle; the agent uses one
 * Client and its request(). This is what the index does for exactly that, and no more.
 */
const UNDICI_CLIENT = `
const Client = require('undici/lib/dispatcher/client.js');
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js');
Object.assign(Dispatcher.prototype, { request: require('undici/lib/api/api-request.js') });
module.exports = { Client };
`;

/** zod's messages come from locales/en.js, loaded by itself; the other 40-odd locales are only exported. */
const NO_LOCALES = 'export {};';

const slim = {
  name: 'pullover-slim',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici-client', namespace: 'pullover-slim' }));
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[/\\]zod[/\\]/.test(args.importer) ? { path: 'zod-locales', namespace: 'pullover-slim' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'pullover-slim' }, (args) =>
      args.path === 'undici-client'
        ? { contents: UNDICI_CLIENT, loader: 'js', resolveDir: PACKAGE }
        : { contents: NO_LOCALES, loader: 'js' },
    );
  },
};

export async function bundleAgent(outfile = BUNDLE) {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(PACKAGE, 'src', 'cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    // No pino transports (they load worker files by path), so nothing may stay outside the bundle.
    external: [],
    alias: { '@pullover/protocol': join(PACKAGE, '..', 'protocol', 'src', 'index.ts') },
    plugins: [slim],
    logLevel: 'warning',
  });
  return { outfile, bytes: statSync(outfile).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { outfile, bytes } = await bundleAgent(process.argv[2]);
  console.log(`${outfile}: ${(bytes / 1024).toFixed(0)} KiB`);
}
