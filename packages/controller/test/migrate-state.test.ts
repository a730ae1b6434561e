import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { FileStore } from '../src/state/file-store.js';
import type { ControllerState } from '../src/state/schema.js';
import { clusterDoc, configDoc, tempDir, writeSecrets } from './helpers.js';

// migrate-state's refusals that need no etcd: each one clear line, a nonzero exit, nothing written.
// Nothing listens on this address: the etcd is unreachable. (Writing into a real etcd: test/migrate-state.test.ts.)
const NO_ETCD = 'http://127.0.76.250:2379';

const STATE: ControllerState = {
  format: 2,
  version: 7,
  issued_at: '2024-01-01T00:00:00.000Z',
  clusters: {
    myservice: { master: 'mysql2', address: '200.200.200.2', port: 3306, hostnames: ['mysql-master.myservice.com'] },
  },
  history: [],
  failover: {},
  failovers: [],
  failovers_filed: {},
};

async function setup(options: { state?: unknown; etcd?: boolean; retry?: string } = {}) {
  const dir = await tempDir();
  await writeSecrets(dir);
  const from = join(dir, 'state');
  await mkdir(from);
  if (options.state !== undefined) {
    const text = typeof options.state === 'string' ? options.state : JSON.stringify(options.state);
    await writeFile(join(from, 'state.json'), text);
  }
  const etcd = { endpoints: [NO_ETCD], retry_timeout: options.retry ?? '300ms' };
  const doc = { ...configDoc(dir, [clusterDoc()]), ...(options.etcd === false ? {} : { store: { etcd } }) };
  const config = join(dir, 'controller.yaml');
  await writeFile(config, JSON.stringify(doc));
  return { dir, from, config };
}

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out, err: err.join('\n') };
}

describe('pullover-controller migrate-state refuses', () => {
  it('a config without store.etcd (exit 2)', async () => {
    const { from, config } = await setup({ state: STATE, etcd: false });
    const result = await run(['migrate-state', '--from', from, '--config', config]);
    expect(result).toMatchObject({ code: 2, out: [] });
    expect(result.err).toBe(`${config}: store.etcd: missing: migrate-state writes into the etcd it names`);
  });

  it('a --from that does not exist, creating nothing (exit 2)', async () => {
    const { dir, config } = await setup();
    const missing = join(dir, 'nowhere');
    const result = await run(['migrate-state', '--from', missing, '--config', config]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`--from ${missing}: ENOENT`);
    expect(await readdir(dir)).not.toContain('nowhere');
  });

  it('a state dir without a state', async () => {
    const { from, config } = await setup();
    const result = await run(['migrate-state', '--from', from, '--config', config]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `pullover-controller: ${from} holds no state (no ${join(from, 'state.json')}): nothing to migrate, nothing written`,
    );
  });

  it('a corrupt state, and one a controller would refuse', async () => {
    const corrupt = await setup({ state: '{"format": 2, "vers' });
    const result = await run(['migrate-state', '--from', corrupt.from, '--config', corrupt.config]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${join(corrupt.from, 'state.json')} is not valid JSON`);

    const invalid = await setup({ state: { ...STATE, version: 0 } });
    const refused = await run(['migrate-state', '--from', invalid.from, '--config', invalid.config]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('is not a valid pullover state (version: ');
  });

  it('a state the config contradicts: every controller would refuse to start on it', async () => {
    const master = { ...STATE.clusters.myservice!, master: 'mysql9' };
    const { from, config } = await setup({ state: { ...STATE, clusters: { myservice: master } } });
    const result = await run(['migrate-state', '--from', from, '--config', config]);
    expect(result.code).toBe(1);
    expect(result.err).toContain('records mysql9 as the master of cluster myservice, but');
  });

  it('a state dir a controller holds, naming its PID', async () => {
    const { from, config } = await setup({ state: STATE });
    const lock = await new FileStore(from).lock();
    try {
      const result = await run(['migrate-state', '--from', from, '--config', config]);
      expect(result.code).toBe(1);
      expect(result.err).toContain(`${from} is in use by another pullover-controller (pid ${process.pid},`);
      expect(result.err).toMatch(/Nothing written\.$/);
    } finally {
      await lock.release();
    }
  });

  it('an unreachable etcd, holding the state dir meanwhile against a controller', async () => {
    const { from, config } = await setup({ state: STATE, retry: '1500ms' });
    const migrating = run(['migrate-state', '--from', from, '--config', config]);
    // Until etcd's answer: a controller starting on the state dir is refused.
    let refusal = '';
    for (let i = 0; i < 20 && refusal === ''; i++) {
      await new Promise((r) => setTimeout(r, 50));
      refusal = await new FileStore(from).lock().then((l) => l.release().then(() => ''), (e: Error) => e.message);
    }
    expect(refusal).toContain(`is in use by another pullover-controller (pid ${process.pid},`);
    const result = await migrating;
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`^pullover-controller: etcd did not answer /v3/kv/range within 1500 ms \\(${NO_ETCD}: .*\\); nothing written$`));
    // Released once refused.
    await (await new FileStore(from).lock()).release();
  });
});
