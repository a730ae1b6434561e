import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResult, type FailoverDetails, mhaArguments, runCommand } from '../src/failover/commands.js';

const DETAILS: FailoverDetails = {
  cluster: 'myservice',
  event: 'after',
  old_master: { name: 'mysql1', address: '200.200.200.1', port: 3306 },
  new_master: { name: 'mysql2', address: '200.200.200.2', port: 3306 },
  hostnames: ['mysql-master.myservice.com'],
  failover_id: '20261124T050254-b293eb',
  reason: 'mysql1 is dead: it\'s gone',
};

describe('operator commands run during a failover', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-commands-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('gives the details as PULLOVER_* variables and as JSON on stdin', async () => {
    const out = join(dir, 'hook.out');
    const result = await runCommand(
      `echo "$PULLOVER_EVENT $PULLOVER_CLUSTER $PULLOVER_OLD_MASTER=$PULLOVER_OLD_MASTER_ADDRESS $PULLOVER_NEW_MASTER=$PULLOVER_NEW_MASTER_ADDRESS $PULLOVER_HOSTNAMES" > ${out}; cat >> ${out}`,
      DETAILS,
      5000,
    );
    expect(result).toMatchObject({ code: 0, timedOut: false });
    const [line, json] = (await readFile(out, 'utf8')).split('\n');
    expect(line).toBe('after myservice mysql1=200.200.200.1 mysql2=200.200.200.2 mysql-master.myservice.com');
    expect(JSON.parse(json ?? '')).toEqual(DETAILS);
  });

  it('calls an MHA master_ip_failover_script with MHA arguments, safely quoted', async () => {
    const script = join(dir, 'master ip failover\'s');
    const out = join(dir, 'mha.out');
    await writeFile(script, `#!/bin/sh\nfor a in "$@"; do echo "$a"; done > '${out}'\n`);
    await chmod(script, 0o755);
    const result = await runCommand(script, DETAILS, 5000, mhaArguments('start', DETAILS));
    expect(result.code).toBe(0);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toEqual([
      '--command=start',
      '--ssh_user=root',
      '--orig_master_host=mysql1',
      '--orig_master_ip=200.200.200.1',
      '--orig_master_port=3306',
      '--new_master_host=mysql2',
      '--new_master_ip=200.200.200.2',
      '--new_master_port=3306',
    ]);
    expect(mhaArguments('stop', DETAILS)).toEqual([
      '--command=stop',
      '--ssh_user=root',
      '--orig_master_host=mysql1',
      '--orig_master_ip=200.200.200.1',
      '--orig_master_port=3306',
    ]);
  });

  it('kills a command that overruns, with its children, and says so', async () => {
    const started = performance.now();
    const result = await runCommand('sleep 30 & sleep 30; wait', DETAILS, 300);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ timedOut: true });
    expect(describeResult('fence_command', result)).toMatch(/^fence_command was killed after \d+ ms/);
  });

  it('reports a failing command with the end of its output', async () => {
    const result = await runCommand('echo "cannot reach the PDU" >&2; exit 3', DETAILS, 5000);
    expect(describeResult('fence_command', result)).toMatch(/^fence_command failed \(exit 3\) in \d+ ms: cannot reach the PDU$/);
  });
});
