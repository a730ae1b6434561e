import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mapping } from '@pullover/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PulloverAgent } from '../src/agent.js';
import { AgentConfigSchema } from '../src/config.js';
import { StateFile } from '../src/state.js';
import { AGENT_VERSION } from '../src/version.js';

const HOST = 'mysql-master.myservice.com';
const ORIGINAL = '127.0.0.1\tlocalhost\n';

function mapping(version: number, address: string): Mapping {
  return {
    version,
    issued_at: '2026-11-23T10:00:00.000Z',
    clusters: [{ name: 'myservice', master: 'm', port: 1, entries: [{ hostname: HOST, address }] }],
  };
}

describe('PulloverAgent.apply, on real files', () => {
  let dir: string;
  let hostsFile: string;
  let onChangeLog: string;
  const make = () => {
    const config = AgentConfigSchema.parse({
      name: 'app1',
      controllers: ['http://127.0.0.1:1'],
      token_file: '/unused',
      hosts_file: hostsFile,
      state_dir: join(dir, 'state'),
      on_change: `echo "$PULLOVER_VERSION $PULLOVER_ENTRIES" >> ${onChangeLog}`,
    });
    return new PulloverAgent({
      config,
      clients: [],
      stateFile: new StateFile(config.state_dir),
      logger: pino({ level: 'silent' }),
    });
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-agent-'));
    hostsFile = join(dir, 'hosts');
    onChangeLog = join(dir, 'on-change.log');
    await writeFile(hostsFile, ORIGINAL);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the block, persists the version and runs on_change once per change', async () => {
    const agent = make();
    await agent.init();
    expect(await agent.apply(mapping(3, '127.0.10.2'), 'test')).toMatchObject({
      version: 3,
      written: true,
      method: 'rename',
    });
    expect(await agent.apply(mapping(3, '127.0.10.2'), 'test')).toMatchObject({ version: 3, written: false });
    expect(await readFile(hostsFile, 'utf8')).toContain(`127.0.10.2\t${HOST}\n# END pullover\n${ORIGINAL}`);
    expect(await readFile(onChangeLog, 'utf8')).toBe(`3 ${HOST}=127.0.10.2\n`);
    expect(JSON.parse(await readFile(join(dir, 'state', 'agent-state.json'), 'utf8')).mapping.version).toBe(
      3,
    );
  });

  it('refuses an older version after a restart: the floor is persisted', async () => {
    const first = make();
    await first.init();
    await first.apply(mapping(7, '127.0.10.2'), 'test');
    const before = await readFile(hostsFile, 'utf8');

    const restarted = make();
    await restarted.init();
    await expect(restarted.apply(mapping(6, '127.0.10.1'), 'stale')).rejects.toThrow(
      /refused version 6 is older than the applied version 7/,
    );
    await expect(restarted.apply(mapping(7, '127.0.10.3'), 'replay')).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      message: expect.stringMatching(
        /^version 7 from replay comes with other entries or another term than the applied version 7 from test /,
      ),
    });
    expect(await readFile(hostsFile, 'utf8')).toBe(before);
  });

  it('the applied version with another term is kept as applied; a term of 0 or none conflicts with no term', async () => {
    const agent = make();
    await agent.init();
    await agent.apply({ ...mapping(7, '127.0.10.2'), term: 11 }, 'https://c1:7420');
    const before = await readFile(hostsFile, 'utf8');
    await expect(agent.apply({ ...mapping(7, '127.0.10.2'), term: 12 }, 'https://c2:7420')).rejects.toThrow(
      'version 7 (term 12) from https://c2:7420 comes with other entries or another term than the applied version 7 (term 11) from https://c1:7420',
    );
    // One controller's version 7, migrated into etcd: the same commit.
    expect(await agent.apply(mapping(7, '127.0.10.2'), 'https://c3:7420')).toMatchObject({ version: 7, written: false });
    expect(await readFile(hostsFile, 'utf8')).toBe(before);
    expect(JSON.parse(await readFile(join(dir, 'state', 'agent-state.json'), 'utf8'))).toMatchObject({
      mapping: { version: 7, term: 11 },
      controller: 'https://c1:7420',
    });
  });

  it('a restarted agent repairs its block from the persisted mapping before any controller answers', async () => {
    const first = make();
    await first.init();
    await first.apply(mapping(2, '127.0.10.2'), 'test');
    const want = await readFile(hostsFile, 'utf8');
    await writeFile(hostsFile, ORIGINAL);
    const restarted = make();
    await restarted.init();
    expect(await readFile(hostsFile, 'utf8')).toBe(want);
    expect(restarted.appliedVersion).toBe(2);
  });

  it('a corrupt state file stops the agent with a clear error instead of dropping the floor', async () => {
    const agent = make();
    await agent.init();
    await agent.apply(mapping(2, '127.0.10.2'), 'test');
    await writeFile(join(dir, 'state', 'agent-state.json'), '{"mapping":');
    await expect(make().init()).rejects.toThrow(/agent-state.json: corrupt; move it aside/);
  });

  it('the state cannot be saved: the hosts file is not touched and the version stays', async () => {
    const agent = make();
    await agent.init();
    await writeFile(join(dir, 'state'), ''); // a file where the state dir should be
    await expect(agent.apply(mapping(4, '127.0.10.2'), 'test')).rejects.toMatchObject({
      code: 'AGENT_STATE_WRITE_FAILED',
      message: expect.stringMatching(/^cannot create .*state: .*; the hosts file is not touched$/),
    });
    expect(await readFile(hostsFile, 'utf8')).toBe(ORIGINAL);
    expect(agent.appliedVersion).toBe(0);
  });
});

describe('the agent version', () => {
  it('is the one in package.json, and goes out with every report', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(AGENT_VERSION).toBe(version);
    const config = AgentConfigSchema.parse({ controllers: ['http://127.0.0.1:1'], token_file: '/unused' });
    const agent = new PulloverAgent({
      config,
      clients: [],
      stateFile: new StateFile('/nonexistent'),
      logger: pino({ level: 'silent' }),
    });
    expect((await agent.buildReport()).agent_version).toBe(version);
  });
});
