// migrate-state: a state dir into etcd, once, before the first start of several controllers.
import { local } from '../spec.js';

export const MIGRATE_STATE = local({
  summary: 'copy a state dir (masters, version, history) into the etcd of store.etcd, once, before controllers '
    + 'first start on etcd; refused when etcd already holds a state',
  options: {
    from: {
      type: 'string',
      arg: 'DIR',
      required: true,
      help: 'the state_dir a controller ran on; locked meanwhile, so no controller may run on it',
    },
    config: {
      type: 'string',
      arg: 'FILE',
      required: true,
      help: 'a controller config with store.etcd: its endpoints, prefix and TLS files name where to write',
    },
  },
  examples: ['migrate-state --from /var/lib/pullover --config /etc/pullover/controller.yaml'],
  build: (values) => ({ from: values.from, config: values.config }),
  run: async ({ from, config: file }, io) => {
    // Loaded here only: --help and the other commands stay quick without undici and the state schemas.
    const { loadConfig } = await import('../../config/load.js');
    const { migrateToEtcd } = await import('../../state/migrate-to-etcd.js');
    const migrated = await migrateToEtcd(from, await loadConfig(file));
    const { version, clusters, history, to } = migrated;
    const what = `${clusters} cluster${clusters === 1 ? '' : 's'}, ${history} history ${history === 1 ? 'entry' : 'entries'}`;
    io.out(`wrote version ${version} (${what}) from ${from} to ${to}`);
    for (const note of migrated.notes) io.out(`the first leader will reconcile it with ${file}: ${note.message}`);
    return 0;
  },
});
