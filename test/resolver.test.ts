import { spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, HOSTNAME, SERVERS } from './support/fleet.js';
import { AGENT_CLI } from './support/processes.js';

/**
 * The real resolver: glibc's getent in a private mount namespace where a copy of /etc is
 * bind-mounted over /etc, so the agent rewrites "/etc/hosts" without touching the machine's.
 */
describe('getent follows set-master', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await Fleet.create();
    await fleet.startController();
  });
  afterAll(async () => {
    await fleet?.destroy();
  });

  it('getent hosts returns the new master address after set-master', async () => {
    const etc = join(fleet.dir, 'etc');
    await cp('/etc', etc, { recursive: true, verbatimSymlinks: true });
    const hosts = await readFile(join(etc, 'hosts'), 'utf8');
    // The old hand-written line, as in the seed's setup: the agent must comment it out.
    await writeFile(join(etc, 'hosts'), `${SERVERS[0].address} ${HOSTNAME}\n${hosts}`);
    const agent = await fleet.addAgent('app-ns');
    await writeFile(
      agent.configFile,
      (await readFile(agent.configFile, 'utf8')).replace(
        `hosts_file: ${agent.hostsFile}`,
        'hosts_file: /etc/hosts',
      ),
    );
    const want = SERVERS[1].address;
    const script = `
      set -u
      mount --bind "${etc}" /etc
      echo "before: $(getent hosts ${HOSTNAME})"
      "${process.execPath}" "${AGENT_CLI}" run --config "${agent.configFile}" >"${fleet.dir}/app-ns.log" 2>&1 &
      agent=$!
      echo READY
      status=1
      for i in $(seq 1 200); do
        if getent hosts ${HOSTNAME} | grep -q "^${want.replaceAll('.', '\\.')} "; then status=0; break; fi
        sleep 0.05
      done
      echo "after: $(getent hosts ${HOSTNAME})"
      kill $agent; wait $agent
      exit $status`;
    const child = spawn('unshare', ['-m', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('READY')) resolve();
      }),
    );
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await ready;
    await new Promise((r) => setTimeout(r, 500));
    await fleet.setMaster('mysql2');
    expect(await exited, out).toBe(0);
    expect(out).toMatch(new RegExp(`before: ${SERVERS[0].address.replaceAll('.', '\\.')}\\s+${HOSTNAME}`));
    expect(out).toMatch(new RegExp(`after: ${want.replaceAll('.', '\\.')}\\s+${HOSTNAME}`));
    // The machine's own /etc/hosts was never touched.
    expect(await readFile('/etc/hosts', 'utf8')).toBe(hosts);
  });
});
