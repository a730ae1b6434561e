import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDuration, parseTokens } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../../test/support/tls.js';
import { ConfigError, loadConfig, parseConfigText, parseListen } from '../src/index.js';
import {
  ADMIN_TOKEN,
  AGENT_TOKEN,
  NAMED_TOKENS,
  clusterDoc,
  configDoc,
  MYSQL_PASSWORD,
  REPLICATION_PASSWORD,
  VIEWER_TOKEN,
  tempDir,
  writeSecrets,
} from './helpers.js';

const EXAMPLE = new URL('../../../examples/controller.yaml', import.meta.url);
const FILE = '/etc/pullover/controller.yaml';

function problems(doc: unknown): string[] {
  try {
    parseConfigText(JSON.stringify(doc), FILE);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases write arbitrary, deliberately invalid shapes into the document.
type Doc = any;

/** A valid document with one change made by `edit`. */
function variant(edit: (doc: Doc) => void): unknown {
  const doc: Doc = configDoc('/tmp');
  doc.clusters.push(clusterDoc('other', 'mysql-master.other.com', '10.0.0'));
  edit(doc);
  return doc;
}

const FAILOVER_DEFAULTS = {
  auto: true,
  min_interval: 8 * 3600 * 1000,
  command_timeout: 30_000,
  catchup_timeout: 60_000,
  agents_timeout: 10_000,
  agent_veto_share: 0.5,
};

describe('the example config', () => {
  it('is valid, with durations in milliseconds and defaults filled in', async () => {
    const config = parseConfigText(await readFile(EXAMPLE, 'utf8'), 'examples/controller.yaml');
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 7420 });
    expect(config.tls).toEqual({
      cert_file: '/etc/pullover/tls/controller.crt',
      key_file: '/etc/pullover/tls/controller.key',
    });
    const [cluster] = config.clusters;
    expect(cluster?.master).toBe('mysql1');
    expect(cluster?.servers.map((s) => [s.name, s.candidate, s.no_master])).toEqual([
      ['mysql1', false, false],
      ['mysql2', true, false],
      ['mysql3', false, true],
    ]);
    expect(cluster?.monitor).toEqual({ interval: 1000, timeout: 1000, ping: 'connect', failures: 3, replica_heartbeat: 1000 });
    expect(cluster?.failover).toEqual(FAILOVER_DEFAULTS);
  });

  it('defaults monitor and failover when they are left out, and freezes the result', () => {
    const config = parseConfigText(JSON.stringify(configDoc('/srv')), FILE);
    expect(config.clusters[0]?.monitor).toEqual({
      interval: 1000,
      timeout: 1000,
      ping: 'connect',
      failures: 3,
      replica_heartbeat: 1000,
    });
    expect(config.clusters[0]?.failover).toEqual(FAILOVER_DEFAULTS);
    expect(Object.isFrozen(config.clusters[0]?.servers[0])).toBe(true);
  });

  it('resolves relative paths against the config file directory', () => {
    const doc = {
      ...configDoc('/x'),
      state_dir: 'state',
      auth: { agent_tokens_file: 'a', admin_tokens_file: '../b' },
    };
    const config = parseConfigText(JSON.stringify(doc), '/etc/pullover/controller.yaml');
    expect(config.state_dir).toBe('/etc/pullover/state');
    expect(config.auth).toEqual({ agent_tokens_file: '/etc/pullover/a', admin_tokens_file: '/etc/b' });
    expect(config.clusters[0]?.mysql).toMatchObject({
      password_file: '/etc/pullover/mysql-password',
      replication_password_file: '/etc/pullover/repl-password',
    });
  });
});

describe('bad configs name the file and the key path', () => {
  const cases: [string, (doc: Doc) => void, string][] = [
    ['unknown top-level key', (d) => (d.tlss = {}), 'tlss: unknown key'],
    [
      'unknown server key',
      (d) => (d.clusters[0].servers[2].no_mastr = true),
      'clusters[0].servers[2].no_mastr: unknown key',
    ],
    ['missing key', (d) => delete d.auth.admin_tokens_file, 'auth.admin_tokens_file: missing'],
    ['bad listen', (d) => (d.listen = '0.0.0.0'), 'listen: "0.0.0.0": expected HOST:PORT'],
    [
      'unquoted IPv6 listen',
      (d) => (d.listen = [{ ':': null }]),
      'listen: YAML read this as a list; quote it',
    ],
    [
      'bad address',
      (d) => (d.clusters[0].servers[1].address = '200.200.200.2\n1.2.3.4 evil'),
      'clusters[0].servers[1].address: not an IPv4 or IPv6 address literal',
    ],
    [
      'hostname as address',
      (d) => (d.clusters[0].servers[1].address = 'db2.internal'),
      'clusters[0].servers[1].address: not an IPv4',
    ],
    [
      'bad hostname',
      (d) => (d.clusters[0].master_hostnames = ['mysql master']),
      'clusters[0].master_hostnames[0]: not an RFC 1123 hostname',
    ],
    ['no hostname', (d) => (d.clusters[0].master_hostnames = []), 'clusters[0].master_hostnames: Too small'],
    [
      'bare number duration',
      (d) => (d.clusters[0].monitor = { interval: 1 }),
      'clusters[0].monitor.interval: expected a duration with a unit',
    ],
    [
      'bad duration',
      (d) => (d.clusters[0].failover = { min_interval: '8 hours' }),
      'clusters[0].failover.min_interval: "8 hours" is not a duration',
    ],
    [
      'zero interval',
      (d) => (d.clusters[0].monitor = { timeout: '0s' }),
      'clusters[0].monitor.timeout: must be longer than 0',
    ],
    [
      'bad ping',
      (d) => (d.clusters[0].monitor = { ping: 'pong' }),
      'clusters[0].monitor.ping: Invalid option',
    ],
    ['bad port', (d) => (d.clusters[0].mysql.port = 70000), 'clusters[0].mysql.port: Too big'],
    [
      'duplicate cluster',
      (d) => (d.clusters[1].name = 'myservice'),
      'clusters[1].name: cluster name myservice is already used at clusters[0].name',
    ],
    [
      'duplicate server name',
      (d) => (d.clusters[0].servers[2].name = 'mysql1'),
      'clusters[0].servers[2].name: server name mysql1 is already used at clusters[0].servers[0].name',
    ],
    [
      'duplicate address',
      (d) => (d.clusters[0].servers[2].address = '200.200.200.1'),
      'clusters[0].servers[2].address: address 200.200.200.1 is already used at clusters[0].servers[0].address',
    ],
    [
      'hostname in two clusters',
      (d) => (d.clusters[1].master_hostnames = ['MYSQL-master.myservice.com']),
      'clusters[1].master_hostnames[0]: hostname',
    ],
    [
      'master not a server',
      (d) => (d.clusters[0].master = 'mysql9'),
      'clusters[0].master: mysql9 is not one of this cluster\'s servers (mysql1, mysql2, mysql3)',
    ],
    [
      'master is no_master',
      (d) => (d.clusters[0].master = 'mysql3'),
      'clusters[0].master: mysql3 is marked no_master',
    ],
    [
      'default master is no_master',
      (d) => d.clusters[0].servers.reverse(),
      'clusters[0].master: missing: without it the first server (mysql3) would be the master',
    ],
    ['no clusters', (d) => (d.clusters = []), 'clusters: Too small'],
    ['bad cluster name', (d) => (d.clusters[0].name = 'my service'), 'clusters[0].name: letters, digits'],
  ];

  it.each(cases)('%s', (_name, edit, expected) => {
    const lines = problems(variant(edit));
    expect(
      lines.some((line) => line.startsWith(`${FILE}: ${expected}`)),
      lines.join('\n'),
    ).toBe(true);
  });

  it('reports every problem at once, cross-field rules included', () => {
    const lines = problems(
      variant((d) => {
        d.listen = 'nowhere';
        d.clusters[0].servers[0].address = 'x';
        d.clusters[1].name = 'myservice';
        d.clusters[0].master = 'mysql9';
      }),
    );
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line.startsWith(`${FILE}: `)).toBe(true);
  });

  it('names the file, line and column of a YAML syntax error', () => {
    expect(() => parseConfigText('listen: 0.0.0.0:7420\nclusters: [\n  - a\n', FILE)).toThrow(
      new RegExp(`^${FILE}:\\d+:\\d+: YAML syntax: `),
    );
    expect(() => parseConfigText('listen: [::]:7420\n', FILE)).toThrow(
      `${FILE}:1:13: YAML syntax: Unexpected scalar at node end (quote IPv6 addresses: listen: "[::]:7420")`,
    );
    expect(() => parseConfigText('a: 1\na: 2\n', FILE)).toThrow(/:2:1: YAML syntax: Map keys must be unique/);
    expect(() => parseConfigText('# nothing\n', FILE)).toThrow(`${FILE}: the file is empty`);
  });
});

describe('loadConfig', () => {
  it('reads the token files', async () => {
    const dir = await tempDir();
    await writeSecrets(dir);
    await writeFile(join(dir, 'controller.yaml'), JSON.stringify(configDoc(dir)));
    const config = await loadConfig(join(dir, 'controller.yaml'));
    expect(config.secrets).toEqual({
      agent_tokens: {
        file: join(dir, 'agent-tokens'),
        lines: [
          { line: 2, token: AGENT_TOKEN },
          { line: 3, name: 'web1', token: NAMED_TOKENS.web1 },
          { line: 4, name: 'web2', token: NAMED_TOKENS.web2 },
          { line: 5, name: 'web3', token: NAMED_TOKENS.web3 },
        ],
      },
      admin_tokens: [ADMIN_TOKEN],
      viewer_tokens: [],
      mysql: { myservice: { password: MYSQL_PASSWORD, replication_password: REPLICATION_PASSWORD } },
    });
    expect(Object.isFrozen(config.secrets.agent_tokens)).toBe(true);
    expect(Object.isFrozen(config.secrets.mysql.myservice)).toBe(true);
  });

  it('reads the optional viewer token file, and names it when it is unreadable', async () => {
    const dir = await tempDir();
    await writeSecrets(dir);
    const doc = configDoc(dir);
    const file = join(dir, 'controller.yaml');
    await writeFile(file, JSON.stringify({ ...doc, auth: { ...doc.auth, viewer_tokens_file: 'viewer-tokens' } }));
    await expect(loadConfig(file)).rejects.toThrow(
      `${file}: auth.viewer_tokens_file: cannot read ${join(dir, 'viewer-tokens')}`,
    );
    await writeFile(join(dir, 'viewer-tokens'), `${VIEWER_TOKEN}\n`);
    expect((await loadConfig(file)).secrets.viewer_tokens).toEqual([VIEWER_TOKEN]);
  });

  it('reads each cluster\'s MySQL passwords, dropping one final newline only', async () => {
    const dir = await tempDir();
    await writeSecrets(dir);
    const other = clusterDoc('other', 'mysql-master.other.com', '10.0.0');
    other.mysql.password_file = 'other-password';
    await writeFile(join(dir, 'other-password'), ' spaced pass\n\n');
    await writeFile(join(dir, 'controller.yaml'), JSON.stringify(configDoc(dir, [clusterDoc(), other])));
    const config = await loadConfig(join(dir, 'controller.yaml'));
    expect(config.secrets.mysql).toEqual({
      myservice: { password: MYSQL_PASSWORD, replication_password: REPLICATION_PASSWORD },
      other: { password: ' spaced pass\n', replication_password: REPLICATION_PASSWORD },
    });
  });

  it('names an unreadable config file', async () => {
    await expect(loadConfig('/nonexistent/controller.yaml')).rejects.toThrow(
      /^\/nonexistent\/controller\.yaml: cannot read the config: ENOENT/,
    );
  });

  it('names missing and bad token and password files without printing secrets', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'agent-tokens'), '# no tokens yet\n\nshort-secret\n');
    await writeFile(join(dir, 'mysql-password'), `${MYSQL_PASSWORD}\n`);
    const file = join(dir, 'controller.yaml');
    await writeFile(file, JSON.stringify(configDoc(dir)));
    const error = await loadConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).problems;
    expect(lines).toEqual([
      `${file}: auth.agent_tokens_file: ${join(dir, 'agent-tokens')} line 3: a token needs at least 16 characters (this one has 12)`,
      expect.stringMatching(
        new RegExp(`^${file}: auth.admin_tokens_file: cannot read ${join(dir, 'admin-tokens')}: ENOENT`),
      ),
      expect.stringMatching(
        new RegExp(
          `^${file}: clusters.0.mysql.replication_password_file: cannot read ${join(dir, 'repl-password')}: ENOENT`,
        ),
      ),
    ]);
    expect(lines.join('\n')).not.toContain('short-secret');
    expect(lines.join('\n')).not.toContain(MYSQL_PASSWORD);
  });

  it('refuses a certificate and key that do not match', async () => {
    const dir = await tempDir();
    await writeSecrets(dir);
    for (const name of ['a', 'b']) {
      selfSignedCert(dir, name, 'localhost');
    }
    const file = join(dir, 'controller.yaml');
    await writeFile(
      file,
      JSON.stringify({ ...configDoc(dir), tls: { cert_file: 'a.crt', key_file: 'b.key' } }),
    );
    await expect(loadConfig(file)).rejects.toThrow(
      /controller\.yaml: tls: .*a\.crt and .*b\.key are not a matching PEM certificate and key/,
    );
    await writeFile(
      file,
      JSON.stringify({ ...configDoc(dir), tls: { cert_file: 'a.crt', key_file: 'a.key' } }),
    );
    expect((await loadConfig(file)).secrets.tls?.cert).toContain('BEGIN CERTIFICATE');
  });
});

describe('small parsers', () => {
  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('8')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
  });

  it('parses listen addresses', () => {
    expect(parseListen('[::]:7420')).toEqual({ host: '::', port: 7420 });
    expect(parseListen('0.0.0.0:7420')).toEqual({ host: '0.0.0.0', port: 7420 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen('[fe80::1%eth0]:1')).toEqual({ host: 'fe80::1%eth0', port: 1 });
    expect(parseListen('[db.internal]:1')).toBeUndefined();
    expect(parseListen('::1:7420')).toBeUndefined();
    expect(parseListen('host:65536')).toBeUndefined();
  });

  it('parses token files', () => {
    expect(parseTokens(`# c\n\n  ${AGENT_TOKEN}  \r\n${ADMIN_TOKEN}\n`)).toEqual({
      tokens: [AGENT_TOKEN, ADMIN_TOKEN],
      problems: [],
    });
    expect(parseTokens('# only comments\n').problems).toEqual(['holds no token']);
    expect(parseTokens('two words-that-are-long-enough\n').problems).toEqual([
      'line 1: a token cannot contain spaces',
    ]);
  });
});
