import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * controller.yaml for the benches that measure the controller alone: one cluster whose MySQL
 * servers do not exist (nothing is failed over; the monitor only fails its pings), the token files
 * in `dir` written by the caller. `file`, `stateDir` and `store` (more top-level keys) for one of
 * several controllers (etcdControllerConfig).
 */
export async function writeControllerConfig(dir, port, { file = 'controller.yaml', stateDir = 'state', store = '' } = {}) {
  await writeFile(join(dir, 'pw'), 'x\n');
  await writeFile(
    join(dir, file),
    `listen: 127.0.0.1:${port}
state_dir: ${join(dir, stateDir)}
${store}auth: { agent_tokens_file: ${join(dir, 'agent-tokens')}, admin_tokens_file: ${join(dir, 'admin-tokens')} }
clusters:
  - name: myservice
    master_hostnames: [mysql-master.myservice.com]
    mysql: { port: 1, user: u, password_file: ${join(dir, 'pw')}, replication_user: r, replication_password_file: ${join(dir, 'pw')} }
    servers:
      - { name: mysql1, address: 127.0.10.1 }
      - { name: mysql2, address: 127.0.10.2, candidate: true }
`,
  );
}

/**
 * Controller `index` (named c1, c2…) of several sharing `endpoints`' etcd under `prefix`: its config
 * is controller-<index + 1>.yaml, beside its own state dir. Returns the file's path.
 */
export async function etcdControllerConfig(dir, port, index, { endpoints, prefix }) {
  const file = `controller-${index + 1}.yaml`;
  const store = `store: { etcd: { endpoints: [${endpoints.join(', ')}], prefix: ${prefix}, name: c${index + 1} } }\n`;
  await writeControllerConfig(dir, port, { file, stateDir: `state-${index + 1}`, store });
  return join(dir, file);
}
