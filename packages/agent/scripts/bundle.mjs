#!/usr/bin/env node
// The agent as one file for app servers that get Node 20 and nothing else: no npm, no node_modules.
//
// CommonJS on purpose: installed as an extensionless /usr/bin/pullover-agent, with no package.json
// around it, Node 20 loads the file as CommonJS, and an ESM bundle would fail there with a syntax
// error. Built from the TypeScript sources (the protocol's too), so never from a stale dist/.
// undici comes in through its public entry point only: its lib/ layout is private and may move in
// any release.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');
// Under dist/, which is already git-ignored, lint-ignored and packed: the tarball ships the bundle too.
export const BUNDLE = join(PACKAGE, 'dist', 'bundle', 'pullover-agent.cjs');

const { version } = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8'));

/** zod's messages come from locales/en.js, loaded by itself; the other 40-odd locales are only exported. */
const NO_LOCALES = 'export {};';

/** The bundle has no package.json beside it to read the version from: it is written in at build time. */
const VERSION = `export const AGENT_VERSION = ${JSON.stringify(version)};`;

const AGENT_SRC = join(PACKAGE, 'src');

const overrides = {
  name: 'pullover-agent-overrides',
  setup(b) {
    b.onResolve({ filter: /^\.\/version\.js$/ }, (args) =>
      args.importer.startsWith(AGENT_SRC) ? { path: 'agent-version', namespace: 'pullover-agent' } : undefined,
    );
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[/\\]zod[/\\]/.test(args.importer) ? { path: 'zod-locales', namespace: 'pullover-agent' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'pullover-agent' }, (args) => ({
      contents: args.path === 'agent-version' ? VERSION : NO_LOCALES,
      loader: 'js',
    }));
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
    plugins: [overrides],
    logLevel: 'warning',
  });
  return { outfile, bytes: statSync(outfile).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { outfile, bytes } = await bundleAgent(process.argv[2]);
  console.log(`${outfile}: ${(bytes / 1024).toFixed(0)} KiB`);
}
