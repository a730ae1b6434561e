import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet, HOSTNAME, ORIGINAL_HOSTS } from './support/fleet.js';
import { AGENT_CLI, runCli } from './support/processes.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function mapping(version: number, hostname: string, address: string, extra: Record<string, unknown> = {}) {
  return {
    version,
    issued_at: new Date().toISOString(),
    clusters: [{ name: 'myservice', master: 'mysql2', port: 3306, entries: [{ hostname, address }] }],
    ...extra,
  };
}

const json =
  (body: unknown): Handler =>
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };

describe('a hostile or broken controller cannot damage the hosts file', () => {
  let dir: string;
  let server: Server;
  let handler: Handler;
  let configFile: string;
  let hostsFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-hostile-'));
    server = createServer((req, res) => {
      if (req.method === 'POST') {
        res.writeHead(204).end();
        return;
      }
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    hostsFile = join(dir, 'hosts');
    configFile = join(dir, 'agent.yaml');
    await writeFile(join(dir, 'token'), 'agent-token-0123456789abcdef\n');
    await writeFile(hostsFile, ORIGINAL_HOSTS);
    await writeFile(
      configFile,
      `name: app1
controllers: [http://127.0.0.1:${port}]
token_file: ${join(dir, 'token')}
hosts_file: ${hostsFile}
state_dir: ${join(dir, 'state')}
http_timeout: 1s
probe_timeout: 200ms
`,
    );
    // A good mapping first, so there is a block and an anti-rollback floor to protect.
    handler = json(mapping(5, HOSTNAME, '127.0.10.2'));
    const first = await runCli(AGENT_CLI, ['sync', '--config', configFile]);
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    server?.close();
    server?.closeAllConnections();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<[string, () => Handler, RegExp]> = [
    [
      'a newline in a hostname',
      () => json(mapping(6, `${HOSTNAME}\n6.6.6.6 evil.example`, '127.0.10.3')),
      /hostname/,
    ],
    ['a hosts line in an address', () => json(mapping(6, HOSTNAME, '127.0.10.3 evil.example')), /address/],
    ['a comment char in a hostname', () => json(mapping(6, `${HOSTNAME}#`, '127.0.10.3')), /hostname/],
    ['an unknown field', () => json(mapping(6, HOSTNAME, '127.0.10.3', { extra: 1 })), /unknown key/],
    ['broken JSON', () => json('{"version": 6, "clusters": ['), /not JSON/],
    [
      'an oversized body',
      () => json(mapping(6, HOSTNAME, '127.0.10.3', { padding: 'x'.repeat(2 * 1024 * 1024) })),
      /larger than 1048576 bytes/,
    ],
    ['an older version', () => json(mapping(4, HOSTNAME, '127.0.10.3')), /older than the applied version 5/],
    [
      'the same version with other entries',
      () => json(mapping(5, HOSTNAME, '127.0.10.3')),
      /version 5 .*other entries or another term than the applied version 5/,
    ],
    [
      'a slow-loris body',
      () => (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const body = JSON.stringify(mapping(6, HOSTNAME, '127.0.10.3'));
        let i = 0;
        const timer = setInterval(() => {
          if (i >= body.length || res.destroyed) return clearInterval(timer);
          res.write(body[i++]);
        }, 100);
        res.on('close', () => clearInterval(timer));
      },
      /no complete answer within 1000 ms/,
    ],
    ['an HTTP 500', () => (_req, res) => res.writeHead(500).end('{"message":"boom"}'), /HTTP 500: boom/],
  ];

  it.each(cases)(
    '%s: refused with a clear message, file and state untouched',
    async (_name, make, message) => {
      const before = await readFile(hostsFile, 'utf8');
      const stateBefore = await readFile(join(dir, 'state', 'agent-state.json'), 'utf8');
      handler = make();
      const result = await runCli(AGENT_CLI, ['sync', '--config', configFile]);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toMatch(message);
      expect(await readFile(hostsFile, 'utf8')).toBe(before);
      expect(await readFile(join(dir, 'state', 'agent-state.json'), 'utf8')).toBe(stateBefore);
      expect(before).toContain(`127.0.10.2\t${HOSTNAME}`);
    },
  );
});

describe('tokens and config errors', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await Fleet.create({ agents: 1 });
    await fleet.startController();
  });
  afterAll(async () => {
    await fleet?.destroy();
  });

  it('no token → 401; an agent token on admin endpoints → 403; an admin token → 200', async () => {
    const agentToken = fleet.agents[0]?.token ?? '';
    const call = (path: string, token?: string, method = 'GET', body?: unknown) =>
      fetch(`${fleet.url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    expect((await call('/v1/mapping?wait=0')).status).toBe(401);
    expect((await call('/v1/mapping?wait=0', 'wrong-token-0123456789')).status).toBe(401);
    expect((await call('/v1/mapping?wait=0', agentToken)).status).toBe(200);
    expect((await call('/v1/status', agentToken)).status).toBe(403);
    expect(
      (await call('/v1/clusters/myservice/set-master', agentToken, 'POST', { server: 'mysql2' })).status,
    ).toBe(403);
    expect((await fleet.api('GET', '/v1/status')).status).toBe(200);
    expect((await fleet.status()).clusters[0]?.master).toBe('mysql1');
  });

  it('bad YAML or a bad key: exit 2 naming the file and the key', async () => {
    const agent = fleet.agents[0];
    if (!agent) throw new Error('no agent');
    await writeFile(agent.configFile, 'name: app1\ncontrollers: [http://127.0.0.1:1\n');
    let result = await runCli(AGENT_CLI, ['sync', '--config', agent.configFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(agent.configFile);

    await writeFile(
      agent.configFile,
      `controllers: [ftp://x]\ntoken_file: /nonexistent\nhosts_fiel: /etc/hosts\n`,
    );
    result = await runCli(AGENT_CLI, ['sync', '--config', agent.configFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${agent.configFile}: controllers[0]: not an http:// or https:// URL`);
    expect(result.stderr).toContain(`${agent.configFile}: hosts_fiel: unknown key`);
    expect(await readFile(agent.hostsFile, 'utf8')).toBe(ORIGINAL_HOSTS);
  });
});
