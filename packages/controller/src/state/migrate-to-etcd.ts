// migrate-state: a controller's state dir written once into the etcd its config names, so that
// several controllers start from the recorded masters and version instead of a first start (which
// would restart the version at 1: agents refuse a version older than the one they applied).
import { stat } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import { ConfigError, describeCause, EtcdError, StateError, UsageError } from '../errors.js';
import { EtcdClient } from '../ha/etcd-client.js';
import type { LogLine } from '../log-line.js';
import { EtcdStore } from './etcd-store.js';
import { FileStore } from './file-store.js';
import { reconcile } from './reconcile.js';

/** The writer recorded with the migrated state (its term is 0: no leader wrote it). */
export const MIGRATE_WRITER = 'migrate-state';

export interface Migrated {
  readonly version: number;
  readonly clusters: number;
  readonly history: number;
  /** Where it went: "etcd http://a:2379, http://b:2379 under /pullover/". */
  readonly to: string;
  /** What the first leader will change when it reconciles the state with the config (nothing written for it here). */
  readonly notes: readonly LogLine[];
}

/**
 * Copies the state in `dir` into the etcd of `config.store.etcd`, under its prefix, unless a state
 * is there already. Holds the state dir's lock meanwhile: a file-store controller changing the state
 * while it is copied would be lost. Every refusal throws (ConfigError, UsageError, StateError,
 * EtcdError) having written nothing.
 */
export async function migrateToEtcd(dir: string, config: LoadedConfig, now = new Date()): Promise<Migrated> {
  const etcd = config.store?.etcd;
  if (etcd === undefined) {
    throw new ConfigError([`${config.source}: store.etcd: missing: migrate-state writes into the etcd it names`]);
  }
  const kind = await stat(dir).then((s) => (s.isDirectory() ? 'dir' : 'not a directory'), (e: unknown) => describeCause(e));
  if (kind !== 'dir') throw new UsageError(`--from ${dir}: ${kind}`);
  const files = new FileStore(dir);
  const lock = await files.lock().catch((error: unknown) => {
    throw error instanceof StateError ? new StateError(`${error.message} Nothing written.`) : error;
  });
  try {
    const state = await files.load();
    if (state === null) {
      throw new StateError(`${dir} holds no state (no ${files.location}): nothing to migrate, nothing written`);
    }
    // Not applied (the first leader reconciles what it loads, as a controller does at start), only
    // checked: a state the config contradicts would stop every controller at start.
    const { log } = reconcile(state, config, now, files.location);
    const tls = config.secrets.etcd_tls;
    const { endpoints, retry_timeout: retryTimeoutMs } = etcd;
    const client = new EtcdClient({ endpoints, retryTimeoutMs, ...(tls ? { tls } : {}) });
    const to = `etcd ${client.endpoints.join(', ')} under ${etcd.prefix}`;
    try {
      const store = new EtcdStore(client, { prefix: etcd.prefix, name: MIGRATE_WRITER });
      await client.range(store.stateKey, { keysOnly: true }).catch((error: unknown) => {
        throw new EtcdError(`${describeCause(error)}; nothing written`);
      });
      const written = await store.create(state, MIGRATE_WRITER).catch((error: unknown) => {
        if (!(error instanceof EtcdError)) throw error;
        throw new EtcdError(
          `${describeCause(error)}; whether the state was written is unknown: run migrate-state again, it writes it or names the state etcd holds`,
        );
      });
      if ('found' in written) {
        const { version, term, writer } = written.found;
        throw new StateError(
          `etcd ${client.endpoint}: ${store.stateKey} already holds a state (version ${version}, term ${term}, written by ${writer}): nothing written; migrate-state is for the first start only`,
        );
      }
      const clusters = Object.keys(state.clusters).length;
      return { version: state.version, clusters, history: state.history.length, to, notes: log };
    } finally {
      await client.close();
    }
  } finally {
    await lock.release();
  }
}
