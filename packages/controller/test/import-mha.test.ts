import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../src/cli/args.js';
import { main } from '../src/cli/main.js';
import { parseConfigText } from '../src/config/load.js';
import { ConfigError, UsageError } from '../src/errors.js';
import { importMha, type MhaFile } from '../src/migrate/mha.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'mha');
const OPTIONS = { cluster: 'myservice', hostnames: ['mysql-master.myservice.com'] };

async function fixture(...names: string[]): Promise<MhaFile[]> {
  return Promise.all(names.map(async (name) => ({ file: name, text: await readFile(join(FIXTURES, name), 'utf8') })));
}

/** `file:line: [section] key: …` → "section key", what a table row can state briefly. */
function noted(notes: readonly string[]): string[] {
  return notes.map((n) => /\[([^\]]+)\]( [a-z_]+)?:/.exec(n)?.slice(1).join('') ?? n);
}

const SECRETS = ['xxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'S3cret#with#hashes', 'r3pl-S3cret', 'hunter2', 'hunter3',
  'global-password', 'app1-password', 'app1-repl'];

describe('importMha', () => {
  it.each([
    {
      case: 'the seed\'s masterha_default.cnf',
      files: ['seed.cnf'],
      servers: [['mysql1', '200.200.200.1', false, false], ['mysql2', '200.200.200.2', true, false]],
      mysql: { port: 3306, user: 'root', replication_user: 'repl' },
      monitor: { interval: 1000, ping: 'connect', failures: 3 },
      failover: { min_interval: 8 * 3_600_000, mha_failover_script: '/usr/share/masterha/master_ip_failover.sh' },
      notes: ['server default password', 'server default ssh_user', 'server default manager_workdir',
        'server default remote_workdir', 'server default master_ip_failover_script',
        'server default master_ip_online_change_script', 'server default repl_user', 'server default repl_password'],
    },
    {
      case: 'three servers: no_master, ping_interval, report_script, secondary_check_script',
      files: ['three-servers.cnf'],
      servers: [['mysql1', '10.0.0.11', true, false], ['mysql2', '10.0.0.12', true, false],
        ['mysql3', '10.0.0.13', false, true]],
      mysql: { port: 3306, user: 'mha', replication_user: 'repl' },
      monitor: { interval: 1000, ping: 'select', failures: 3 },
      failover: { min_interval: 8 * 3_600_000, mha_failover_script: '/usr/local/bin/master_ip_failover' },
      notes: ['server default password', 'server default repl_password', 'server default ssh_user',
        'server default manager_workdir', 'server default manager_log', 'server default remote_workdir',
        'server default master_binlog_dir', 'server default master_ip_failover_script',
        'server default shutdown_script', 'server default report_script', 'server default secondary_check_script',
        'server default check_repl_delay', 'server3 ignore_fail'],
    },
    {
      case: 'DNS hostnames and a server on another port',
      files: ['dns-ports.cnf'],
      servers: [['db1', '192.0.2.1', false, false], ['db2', '10.20.0.12', true, false],
        ['db3', '192.0.2.3', false, true]],
      mysql: { port: 3306, user: 'mhauser', replication_user: 'replicator' },
      monitor: { interval: 3000, ping: 'connect', failures: 3 },
      failover: { min_interval: 3_600_000 },
      notes: ['server default password', 'server default repl_password', 'server default ssh_port',
        'server default latest_priority', 'server default multi_tier_slave', 'server_db1 hostname',
        'server_db3 hostname', 'server_db3 port'],
    },
    {
      case: 'a global file under an application file that overrides it',
      files: ['global.cnf', 'app1.cnf'],
      servers: [['mysql1', '192.168.10.1', false, false], ['mysql2', '192.168.10.2', true, false],
        ['mysql3', '192.168.10.3', false, true]],
      mysql: { port: 3306, user: 'pullover_mon', replication_user: 'repl' },
      monitor: { interval: 2000, ping: 'insert', failures: 3 },
      failover: { min_interval: 8 * 3_600_000, mha_failover_script: '/usr/local/sample/bin/master_ip_failover' },
      // report_script= in app1.cnf switches the global one off: no note, no hook.
      notes: ['server default ssh_user', 'server default master_binlog_dir', 'server default remote_workdir',
        'server default secondary_check_script', 'server default master_ip_failover_script',
        'server default master_ip_online_change_script', 'server default manager_workdir',
        'server default manager_log', 'server default password', 'server default repl_password',
        'server2 check_repl_delay'],
    },
  ])('$case', async ({ files, servers, mysql, monitor, failover, notes }) => {
    const result = importMha(await fixture(...files), OPTIONS);
    // The controller's own parser is the judge: a YAML it refuses would fail the migration at start.
    const config = parseConfigText(result.yaml, '/etc/pullover/controller.yaml');
    const cluster = config.clusters[0];
    expect(cluster?.name).toBe('myservice');
    expect(cluster?.master_hostnames).toEqual(['mysql-master.myservice.com']);
    expect(cluster?.master).toBe(servers[0]?.[0]);
    expect(cluster?.servers.map((s) => [s.name, s.address, s.candidate, s.no_master])).toEqual(servers);
    expect(cluster?.mysql).toMatchObject({ ...mysql, password_file: '/etc/pullover/mysql-password',
      replication_password_file: '/etc/pullover/repl-password' });
    expect(cluster?.monitor).toMatchObject(monitor);
    expect(cluster?.failover).toMatchObject(failover);
    expect(noted(result.notes)).toEqual(notes);
    for (const secret of SECRETS) {
      expect(result.yaml).not.toContain(secret);
      expect(result.notes.join('\n')).not.toContain(secret);
    }
  });

  it('names the file and line of each note and says what to do', async () => {
    const { notes, yaml } = importMha(await fixture('seed.cnf'), OPTIONS);
    expect(notes[0]).toBe('seed.cnf:4: [server default] password: not copied: put it in '
      + '/etc/pullover/mysql-password (mode 0600, owned by the controller\'s user)');
    expect(notes).toContain('seed.cnf: [server default] repl_user: missing (MHA took Master_User from SHOW SLAVE '
      + 'STATUS): write it as mysql.replication_user in place of the placeholder "repl"');
    expect(yaml).toContain('replication_user: repl # REPLACE: MHA had no repl_user');
  });

  it('suggests shutdown_script and report_script as commented-out keys, never as live ones', async () => {
    const { yaml } = importMha(await fixture('three-servers.cnf'), OPTIONS);
    expect(yaml).toContain('      # fence_command: /usr/local/bin/power_manager # shutdown_script, once adapted\n');
    expect(yaml).toContain('      # hooks:\n      #   after: /usr/local/bin/send_report # report_script, once adapted\n');
  });

  it('marks a DNS hostname\'s placeholder address in the YAML', async () => {
    const { yaml } = importMha(await fixture('dns-ports.cnf'), OPTIONS);
    expect(yaml).toContain('- { name: db1, address: 192.0.2.1 } # [server_db1] REPLACE with the address of db1.dc1.example.com');
  });

  it.each([
    ['servers sharing a first label keep their whole hostname', '[server1]\nhostname=db1.a.example\n[server2]\nhostname=db1.b.example\n', ['db1.a.example', 'db1.b.example']],
    ['an ip= next to a DNS hostname gives the address', '[server1]\nhostname=db1.example.com\nip=2001:db8::1\n', ['db1']],
    ['sections not named serverN keep their name', '[server_a]\nhostname=10.0.0.1\n[server_b]\nhostname=10.0.0.2\n', ['server_a', 'server_b']],
  ])('%s', (_case, text, names) => {
    const config = parseConfigText(importMha([{ file: 'a.cnf', text }], OPTIONS).yaml, 'c.yaml');
    expect(config.clusters[0]?.servers.map((s) => s.name)).toEqual(names);
  });

  it('takes the first server without no_master as the master', () => {
    const text = '[server default]\nport = 3307\n[server1]\nhostname=10.0.0.1\nno_master=1\n[server2]\nhostname=10.0.0.2\n';
    const config = parseConfigText(importMha([{ file: 'a.cnf', text }], OPTIONS).yaml, 'c.yaml');
    expect(config.clusters[0]).toMatchObject({ master: 'mysql2', mysql: { port: 3307 } });
  });

  it.each([
    ['a line that is no setting, without echoing it', '[server default]\npassword secret\n', 'a.cnf:2: MHA config syntax: expected [section], key=value or a # comment'],
    ['a setting before any section', 'user=root\n[server1]\nhostname=10.0.0.1\n', 'a.cnf:1: MHA config syntax: a setting before any [section]'],
    ['no server', '[server default]\nuser=root\n', 'a.cnf: no [server1]… section: no server to import'],
    ['no server that could be the master', '[server1]\nhostname=10.0.0.1\nno_master=1\n', 'a.cnf: every server has no_master=1: none could be the master'],
  ])('refuses %s', (_case, text, message) => {
    expect(() => importMha([{ file: 'a.cnf', text }], OPTIONS)).toThrow(new ConfigError([message]));
  });
});

describe('pullover-controller import-mha', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'import-mha-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join('\n'), err };
  }

  it('parses its flags', () => {
    expect(parseCommand(['import-mha', 'g.cnf', 'a.cnf', '--out', 'c.yaml', '--cluster', 'app1',
      '--hostname', 'DB.example.com', '--hostname', 'db-ro.example.com'])).toEqual({
      kind: 'import-mha', files: ['g.cnf', 'a.cnf'], out: 'c.yaml', cluster: 'app1',
      hostnames: ['db.example.com', 'db-ro.example.com'],
    });
    expect(parseCommand(['import-mha', 'a.cnf'])).toMatchObject({ cluster: 'myservice', hostnames: ['mysql-master.myservice.com'] });
    expect(() => parseCommand(['import-mha'])).toThrow(new UsageError('import-mha needs at least one MHA config FILE'));
    expect(() => parseCommand(['import-mha', 'a.cnf', '--hostname', 'a b'])).toThrow(UsageError);
    expect(() => parseCommand(['import-mha', 'a.cnf', '--cluster', 'a/b'])).toThrow(UsageError);
  });

  it('prints the YAML on stdout and the notes on stderr', async () => {
    const r = await run('import-mha', join(FIXTURES, 'seed.cnf'), '--cluster', 'shop', '--hostname', 'db.shop.example');
    expect(r.code).toBe(0);
    expect(parseConfigText(r.out, 'c.yaml').clusters[0]).toMatchObject({ name: 'shop', master_hostnames: ['db.shop.example'] });
    expect(r.err).toHaveLength(8);
  });

  it('writes --out, and never over an existing file', async () => {
    const out = join(dir, 'controller.yaml');
    const first = await run('import-mha', join(FIXTURES, 'seed.cnf'), '--out', out);
    expect(first.code).toBe(0);
    expect(first.out).toBe('');
    const written = await readFile(out, 'utf8');
    expect(parseConfigText(written, out).clusters[0]?.servers).toHaveLength(2);
    await writeFile(out, 'mine');
    const second = await run('import-mha', join(FIXTURES, 'seed.cnf'), '--out', out);
    expect(second.code).toBe(2);
    expect(second.err[0]).toContain(`${out} exists: not overwritten`);
    expect(await readFile(out, 'utf8')).toBe('mine');
  });

  it('exits 2 naming an unreadable file', async () => {
    const missing = join(dir, 'missing.cnf');
    const r = await run('import-mha', missing);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err[0]).toMatch(new RegExp(`^${missing}: cannot read the MHA config: .*ENOENT`));
  });
});
