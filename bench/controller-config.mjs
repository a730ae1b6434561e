import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * controller.yaml for the benches that measure the controller alone: one cluster whose MySQL
 * servers do not exist (nothing is failed over; the monitor only fails its pings), the token files
 * in `dir` written by the caller.
 */
export async function writeControllerConfig(dir, port) {
  await writeFile(join(dir, 'pw'), 'x\n');
  await writeFile(
    join(dir, 'controller.yaml'),
    `listen: 127.0.0.1:${port}
state_dir: ${join(dir, 'state')}
auth: { agent_tokens_file: ${join(dir, 'agent-tokens')}, admin_tokens_file: ${join(dir, 'admin-tokens')} }
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
