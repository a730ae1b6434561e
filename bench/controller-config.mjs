import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * controller.yaml for the benches that measure the controller alone: one cluster, nothing failed
 * over. Its MySQL is the sandbox cluster `mariadb` when given (mysql1 the master, mysql2 the
 * candidate, mysql3; its logins' passwords written to files in `dir`), as a deployment has it: the
 * monitor pings a live master once an interval. Without it, servers that do not exist (port 1 on
 * 127.0.10.x): the monitor fails its pings and re-checks every 100 ms, which costs the controller
 * CPU, so only for benches that do not measure it. The token files in `dir` are written by the
 * caller. `file`, `stateDir` and `store` (more top-level keys) for one of several controllers
 * (etcdControllerConfig).
 */
export async function writeControllerConfig(dir, port, { file = 'controller.yaml', stateDir = 'state', store = '', mariadb } = {}) {
  const { mysql, servers } = mariadb ? await sandboxServers(dir, mariadb) : await absentServers(dir);
  await writeFile(
    join(dir, file),
    `listen: 127.0.0.1:${port}
state_dir: ${join(dir, stateDir)}
${store}auth: { agent_tokens_file: ${join(dir, 'agent-tokens')}, admin_tokens_file: ${join(dir, 'admin-tokens')} }
clusters:
  - name: myservice
    master_hostnames: [mysql-master.myservice.com]
    mysql: { port: ${mysql.port}, user: ${mysql.user}, password_file: ${mysql.passwordFile}, replication_user: ${mysql.replUser}, replication_password_file: ${mysql.replPasswordFile} }
    servers:
${servers.map((s, i) => `      - { name: ${s.name}, address: ${s.address}${i === 1 ? ', candidate: true' : ''} }\n`).join('')}`,
  );
}

/**
 * Controller `index` (named c1, c2…) of several sharing `endpoints`' etcd under `prefix`, on
 * `mariadb` if given: its config is controller-<index + 1>.yaml, beside its own state dir. Returns
 * the file's path.
 */
export async function etcdControllerConfig(dir, port, index, { endpoints, prefix, mariadb }) {
  const file = `controller-${index + 1}.yaml`;
  const store = `store: { etcd: { endpoints: [${endpoints.join(', ')}], prefix: ${prefix}, name: c${index + 1} } }\n`;
  await writeControllerConfig(dir, port, { file, stateDir: `state-${index + 1}`, store, mariadb });
  return join(dir, file);
}

async function sandboxServers(dir, mariadb) {
  const secret = async (name, password) => {
    await writeFile(join(dir, name), `${password}\n`, { mode: 0o600 });
    return join(dir, name);
  };
  const mysql = {
    port: mariadb.master.port,
    user: mariadb.admin.user,
    passwordFile: await secret('mysql-password', mariadb.admin.password),
    replUser: mariadb.repl.user,
    replPasswordFile: await secret('repl-password', mariadb.repl.password),
  };
  return { mysql, servers: mariadb.servers.map((s) => ({ name: s.name, address: s.address })) };
}

async function absentServers(dir) {
  const pw = join(dir, 'pw');
  await writeFile(pw, 'x\n');
  const mysql = { port: 1, user: 'u', passwordFile: pw, replUser: 'r', replPasswordFile: pw };
  return { mysql, servers: [1, 2].map((n) => ({ name: `mysql${n}`, address: `127.0.10.${n}` })) };
}
