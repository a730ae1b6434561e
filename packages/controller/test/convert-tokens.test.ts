import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { convertTokens, KEEP_UNTIL_SWITCHED } from '../src/config/convert-tokens.js';
import { parseAgentTokens } from '../src/config/tokens.js';
import { tempDir } from './helpers.js';

const A = 'token-of-app1-0123456789';
const B = 'token-of-app2-0123456789';
const SHARED = 'shared-by-the-fleet-0123456789';

describe('convertTokens', () => {
  it('gives the bare lines the names in order, tokens and comments kept', () => {
    const result = convertTokens(`# fleet\n${A}\n\n${B}\n`, ['app1', 'app2']);
    expect(result.text).toBe(`# fleet\napp1 ${A}\n\napp2 ${B}\n`);
    expect(result.said).toEqual([
      'line 2: app1, its token kept (nothing to change on that app server)',
      'line 4: app2, its token kept (nothing to change on that app server)',
    ]);
    expect(result.minted.size).toBe(0);
  });

  it('with a token shared by the fleet, mints one per name and keeps the bare line, marked, until all switched', () => {
    let n = 0;
    const result = convertTokens(`${SHARED}\nweb1 ${A}`, ['app1', 'app2'], () => `minted-token-number-${++n}-abcdef`);
    expect(result.text).toBe(
      `${KEEP_UNTIL_SWITCHED}\n${SHARED}\nweb1 ${A}\napp1 minted-token-number-1-abcdef\napp2 minted-token-number-2-abcdef\n`,
    );
    expect([...result.minted.keys()]).toEqual(['app1', 'app2']);
    expect(parseAgentTokens(result.text).problems).toEqual([]);
    expect(result.said.join('\n')).not.toContain('minted-token');
  });

  it.each([
    [[SHARED].join('\n'), ['app1', 'app2'], 'the file has 1 bare-token line(s) and --names gives 2 name(s)'],
    [`app1 ${A}\n${B}`, ['app1'], '--names: app1 already has a token, on line 1'],
    [`${A}\n${B}`, ['app1', 'app1'], '--names: app1 is given twice'],
    [`${A}`, ['app/1'], '--names: "app/1": letters, digits'],
    [`app1 ${A}`, ['app2'], 'the file has no bare-token line: nothing to convert'],
    [`${A}\n${A}`, ['app1', 'app2'], 'the file is refused as it is: line 2: the same token as line 1'],
  ])('refuses what does not fit (%#)', (text, names, message) => {
    expect(() => convertTokens(text, names)).toThrow(message);
  });
});

describe('pullover-controller convert-tokens', () => {
  function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    return main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }).then((code) => ({ code, out, err }));
  }

  it('rewrites the file in place, keeping its mode, and says what it did', async () => {
    const dir = await tempDir();
    const file = join(dir, 'agent-tokens');
    await writeFile(file, `${A}\n${B}\n`, { mode: 0o640 });
    const { code, out } = await run(['convert-tokens', '--file', file, '--names', 'app1, app2']);
    expect(code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(`app1 ${A}\napp2 ${B}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(out).toEqual([
      `${file}: line 1: app1, its token kept (nothing to change on that app server)`,
      `${file}: line 2: app2, its token kept (nothing to change on that app server)`,
    ]);
  });

  it('with --out-dir writes each new token for its app server, 0600, and the steps that follow', async () => {
    const dir = await tempDir();
    const file = join(dir, 'agent-tokens');
    await writeFile(file, `${SHARED}\n`);
    const { code, out } = await run(['convert-tokens', '--file', file, '--names', 'app1,app2', '--out-dir', join(dir, 'new')]);
    expect(code).toBe(0);
    const lines = parseAgentTokens(await readFile(file, 'utf8')).lines;
    for (const name of ['app1', 'app2']) {
      const token = (await readFile(join(dir, 'new', `${name}.token`), 'utf8')).trim();
      expect(lines.find((l) => l.name === name)?.token).toBe(token);
      expect((await stat(join(dir, 'new', `${name}.token`))).mode & 0o777).toBe(0o600);
    }
    expect(lines.find((l) => l.name === undefined)?.token).toBe(SHARED);
    expect(out.at(-1)).toMatch(/^next: copy .*NAME\.token to each app server's token_file and restart its agent; /);
  });

  it('exits 2, the file untouched, when the names do not fit or a token file is in the way', async () => {
    const dir = await tempDir();
    const file = join(dir, 'agent-tokens');
    await writeFile(file, `${SHARED}\n`);
    const short = await run(['convert-tokens', '--file', file, '--names', 'app1,app2']);
    expect(short.code).toBe(2);
    expect(short.err.join('\n')).toContain('give --out-dir DIR to make a new token for each name');
    await writeFile(join(dir, 'app2.token'), 'someone else\'s\n');
    const clash = await run(['convert-tokens', '--file', file, '--names', 'app1,app2', '--out-dir', dir]);
    expect(clash.code).toBe(2);
    expect(clash.err.join('\n')).toContain(`${join(dir, 'app2.token')}: EEXIST`);
    expect(await readFile(file, 'utf8')).toBe(`${SHARED}\n`);
  });
});
