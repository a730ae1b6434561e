import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Mapping, mappingEntries } from '@pullover/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { type AgentConfig, AgentConfigSchema } from '../src/config.js';
import { HostsFileError } from '../src/errors.js';
import { planHostsFile } from '../src/hosts/block.js';
import { StateFile } from '../src/state.js';
import { uninstallAgent } from '../src/uninstall.js';

const M = 'mysql-master.myservice.com';
const ORIGINAL = `127.0.0.1 localhost\r\n200.200.200.1 ${M}\r\n# café ✓`;
const MAPPING: Mapping = {
  version: 3,
  issued_at: '2024-01-01T00:00:00.000Z',
  clusters: [{ name: 'myservice', master: 'mysql2', port: 3306, entries: [{ hostname: M, address: '200.200.200.2' }] }],
};

let dir: string;
let config: AgentConfig;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pullover-uninstall-'));
  config = AgentConfigSchema.parse({
    controllers: ['http://127.0.0.1:1'],
    token_file: join(dir, 'token'),
    hosts_file: join(dir, 'etc', 'hosts'),
    state_dir: join(dir, 'state'),
  });
  await mkdir(join(dir, 'etc'));
  return () => rm(dir, { recursive: true, force: true });
});

/** The files an agent leaves after applying MAPPING, as `run` or `sync` would. */
async function installed(): Promise<void> {
  await writeFile(config.hosts_file, planHostsFile(ORIGINAL, mappingEntries(MAPPING)).content);
  await new StateFile(config.state_dir).save({ mapping: MAPPING, applied_at: 'x', controller: 'y' });
}

describe('uninstallAgent', () => {
  it('restores the original bytes, deletes the state file and leaves the state dir', async () => {
    await installed();
    const state = join(config.state_dir, 'agent-state.json');
    const outcome = await uninstallAgent(config);
    expect(outcome.sentence).toBe(
      `removed the pullover block (1 entry) from ${config.hosts_file}, restored 1 commented-out line; deleted ${state}`,
    );
    expect(outcome.write).toEqual({ method: 'rename' });
    expect(await readFile(config.hosts_file, 'utf8')).toBe(ORIGINAL);
    expect(await readdir(config.state_dir)).toEqual([]);
  });

  it('is idempotent: a second run says there is nothing to do and writes nothing', async () => {
    await installed();
    await uninstallAgent(config);
    const before = await stat(config.hosts_file);
    const again = await uninstallAgent(config);
    expect(again.sentence).toBe(
      `no pullover block in ${config.hosts_file}, nothing to restore; no agent state in ${config.state_dir}`,
    );
    expect(again.write).toBeUndefined();
    expect((await stat(config.hosts_file)).mtimeMs).toBe(before.mtimeMs);
  });

  it('deletes the temp files a killed writer left behind', async () => {
    await installed();
    const litter = [join(dir, 'etc', '.hosts.pullover-123-abc'), join(config.state_dir, '.agent-state.json.pullover-9-x')];
    for (const file of litter) await writeFile(file, 'half');
    await writeFile(join(dir, 'etc', '.hosts.other'), 'not ours');
    const outcome = await uninstallAgent(config);
    expect(outcome.removed).toEqual(expect.arrayContaining(litter));
    expect(await readdir(join(dir, 'etc'))).toEqual(['.hosts.other', 'hosts']);
  });

  it('fails naming the file and keeps the state when the hosts file cannot be read', async () => {
    await installed();
    const bytes = Buffer.from([0x31, 0x0a, 0xff, 0x0a]);
    await writeFile(config.hosts_file, bytes);
    const err = await uninstallAgent(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostsFileError);
    expect((err as Error).message).toContain(`cannot read ${config.hosts_file}`);
    expect(await readFile(config.hosts_file)).toEqual(bytes);
    expect(await readdir(config.state_dir)).toEqual(['agent-state.json']);
  });
});
