#!/usr/bin/env node
// The admin CLI bundled (dist/bundle/pullover-controller.js and its chunks), so that `status`,
// `set-master` and `--help` start in a few node start times instead of resolving and compiling
// hundreds of module files (undici, zod, yaml, the protocol) one by one. What a command loads on
// demand is a chunk of its own: --help never compiles undici, a --url command never yaml.
//
// What `run`, `check` and `import-mha` load on demand (the server, MySQL, fastify, pino) stays
// in dist/ as tsc wrote it, imported from there: the status page finds ui/ relative to its own
// file, and nothing of the daemon is duplicated.
// errors.js too stays one module shared by both sides: `instanceof ConfigError` in main must
// recognise an error thrown by dist/config/load.js, or a bad config would exit 1 instead of 2.
// Built from the TypeScript sources (the protocol's too), never from a stale bundle.
import { rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(PACKAGE, 'src');
const OUTDIR = join(PACKAGE, 'dist', 'bundle');
export const BUNDLE = join(OUTDIR, 'pullover-controller.js');
/** The commands that run the daemon's code, loaded from dist/ as it is. */
const LOCAL = join(SRC, 'cli', 'commands', 'local.ts');

/** src/x/y.ts → "../x/y.js": the tsc output in dist/, from the bundle's directory. */
const inDist = (file) => `../${relative(SRC, file).replace(/\.ts$/, '.js')}`;

const sharedWithDist = {
  name: 'pullover-controller-dist',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(SRC)) return undefined;
      const file = join(dirname(args.importer), args.path).replace(/\.js$/, '.ts');
      const shared = file === join(SRC, 'errors.ts');
      const daemon = args.kind === 'dynamic-import' && args.importer === LOCAL;
      return daemon || shared ? { path: inDist(file), external: true } : undefined;
    });
  },
};

/** zod's messages come from locales/en.js, loaded by itself; the other 40-odd locales are only exported. */
const noLocales = {
  name: 'zod-no-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[/\\]zod[/\\]/.test(args.importer) ? { path: 'zod-locales', namespace: 'no-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-locales' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * The protocol's modules build their zod schemas at load, which esbuild must assume has effects;
 * they have none beyond the schema, so a command loads only the schemas it validates with.
 */
const PROTOCOL_SRC = join(PACKAGE, '..', 'protocol', 'src');
const pureProtocol = {
  name: 'pure-protocol',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) =>
      args.importer.startsWith(PROTOCOL_SRC)
        ? { path: join(dirname(args.importer), args.path).replace(/\.js$/, '.ts'), sideEffects: false }
        : undefined,
    );
  },
};

export async function bundleController() {
  rmSync(OUTDIR, { recursive: true, force: true });
  await build({
    entryPoints: { 'pullover-controller': join(SRC, 'cli.ts') },
    outdir: OUTDIR,
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // undici is CommonJS and requires node's modules: an ESM bundle needs a require of its own.
    banner: { js: 'import { createRequire as pulloverRequire } from \'node:module\'; const require = pulloverRequire(import.meta.url);' },
    minify: true,
    alias: { '@pullover/protocol': join(PACKAGE, '..', 'protocol', 'src', 'index.ts') },
    plugins: [sharedWithDist, pureProtocol, noLocales],
    logLevel: 'warning',
  });
  return { outfile: BUNDLE, bytes: statSync(BUNDLE).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { outfile, bytes } = await bundleController();
  console.log(`${outfile}: ${(bytes / 1024).toFixed(0)} KiB`);
}
