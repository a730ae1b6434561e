// A bind-mounted file (Docker's /etc/hosts) needs a private mount namespace, hence a child process
// running the real writer, bundled from the TypeScript sources so that no stale dist/ is tested.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect } from 'vitest';

const PROTOCOL_SRC = fileURLToPath(new URL('../src/index.ts', import.meta.url));

export interface NamespaceRun {
  /** What the writer resolved with, or the code and message it threw. */
  result: Record<string, string>;
  /** The file as the child saw it afterwards, and its directory's listing. */
  seen: string;
  files: string[];
}

/** A child process that writes a file with `fn` exported by `entry`, called as fn(target, content, ...args). */
export class WriterChild {
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async build(entry: string, fn: string, args: readonly unknown[] = []): Promise<WriterChild> {
    const dir = await mkdtemp(join(tmpdir(), 'pullover-writer-'));
    await build({
      entryPoints: [entry],
      outfile: join(dir, 'writer.cjs'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      alias: { '@pullover/protocol': PROTOCOL_SRC },
      logLevel: 'silent',
    });
    const child = `
      const { readdirSync, readFileSync } = require('node:fs');
      const { dirname } = require('node:path');
      const writer = require(${JSON.stringify(join(dir, 'writer.cjs'))});
      const [target, content] = process.argv.slice(2);
      writer[${JSON.stringify(fn)}](target, content, ...${JSON.stringify(args)})
        .catch((e) => ({ code: e.code, message: e.message }))
        .then((result) => {
          const files = readdirSync(dirname(target)).sort();
          console.log(JSON.stringify({ result, seen: readFileSync(target, 'utf8'), files }));
        });
    `;
    await writeFile(join(dir, 'child.cjs'), child);
    return new WriterChild(dir);
  }

  /**
   * Runs `setup` (sh, with $SRC, $DIR and $HOSTS = $DIR/hosts) then the child in a private mount
   * namespace; the child writes `content` to $HOSTS.
   */
  run(setup: string, paths: { src: string; dir: string }, content: string): NamespaceRun {
    const script = `${setup} && exec "$NODE" "$CHILD" "$HOSTS" "$CONTENT"`;
    const env = {
      ...process.env,
      ...{ SRC: paths.src, DIR: paths.dir, HOSTS: join(paths.dir, 'hosts') },
      ...{ NODE: process.execPath, CHILD: join(this.#dir, 'child.cjs'), CONTENT: content },
    };
    const run = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8', env, timeout: 10_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout) as NamespaceRun;
  }

  remove(): Promise<void> {
    return rm(this.#dir, { recursive: true, force: true });
  }
}
