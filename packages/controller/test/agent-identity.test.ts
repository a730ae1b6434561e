import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorBody, Status } from '@pullover/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAgentTokens, tokenWarnings } from '../src/config/tokens.js';
import { RefusalLog, TokenAuth } from '../src/http/auth.js';
import { type Controller, loadConfig, startController, WrongAgent } from '../src/index.js';
import {
  ADMIN_TOKEN,
  AGENT_TOKEN,
  adminAuth,
  agentAuth,
  configDoc,
  logCapture,
  LOOPBACK_CLUSTER,
  NAMED_TOKENS,
  namedAuth,
  openTest,
  report,
  tempDir,
  writeSecrets,
} from './helpers.js';

// A token speaks for one agent: the name on its line of auth.agent_tokens_file.

const open: Controller[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.app.close()));
});

async function controller(log = logCapture()) {
  const c = await openTest(await tempDir(), { logger: log.logger });
  open.push(c);
  return c;
}

function send(c: Controller, name: string, headers: object) {
  return c.app.inject({ method: 'POST', url: `/v1/agents/${name}/report`, headers: { ...headers }, payload: report(1) });
}

function poll(c: Controller, agent: string, headers: object) {
  const url = `/v1/mapping?after=1&wait=0&agent=${agent}&block=${'ab'.repeat(32)}`;
  return c.app.inject({ method: 'GET', url, headers: { ...headers } });
}

async function status(c: Controller) {
  return Status.parse((await c.app.inject({ method: 'GET', url: '/v1/status', headers: adminAuth })).json());
}

describe('agent identity over HTTP', () => {
  it('a token reports and acknowledges as its own agent, which status shows as bound', async () => {
    const c = await controller();
    expect((await send(c, 'web1', namedAuth('web1'))).statusCode).toBe(204);
    expect((await poll(c, 'web2', namedAuth('web2'))).statusCode).toBe(204);
    expect((await status(c)).agents.map((a) => [a.name, a.bound])).toEqual([['web1', true], ['web2', true]]);
  });

  it.each([
    ['reports as another agent', (c: Controller) => send(c, 'web2', namedAuth('web1')), 'web2'],
    ['reports as a name no line holds', (c: Controller) => send(c, 'ghost', namedAuth('web1')), 'ghost'],
    ['acknowledges as another agent', (c: Controller) => poll(c, 'web2', namedAuth('web1')), 'web2'],
    ['acknowledges as a name no line holds', (c: Controller) => poll(c, 'ghost', namedAuth('web1')), 'ghost'],
  ])('refuses web1\'s token when it %s: 403, logged naming the token\'s owner', async (_what, call, claimed) => {
    const log = logCapture();
    const c = await controller(log);
    const res = await call(c);
    expect(res.statusCode).toBe(403);
    expect(ErrorBody.parse(res.json())).toMatchObject({ code: 'PULLOVER_WRONG_AGENT' });
    expect(log.messages()).toContain(
      `refused a request from 127.0.0.1 as agent ${claimed} with the token of web1: a token speaks only for its own agent; a leaked token?`,
    );
    expect(c.registry.size).toBe(0);
  });

  it('an unbound token (a bare line) reports under a free name, shown unbound, but never as a bound agent', async () => {
    const c = await controller();
    expect((await send(c, 'app7', agentAuth)).statusCode).toBe(204);
    expect((await status(c)).agents).toMatchObject([{ name: 'app7', bound: false }]);
    const res = await send(c, 'web1', agentAuth);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ message: 'this token speaks for the unbound token of line 2 only, not for web1' });
  });

  it('a poll that acknowledges nothing needs any agent token; a viewer\'s or none is refused as before', async () => {
    const c = await controller();
    const plain = (headers: object) => c.app.inject({ method: 'GET', url: '/v1/mapping?wait=0', headers: { ...headers } });
    expect((await plain(namedAuth('web3'))).statusCode).toBe(200);
    expect((await plain(agentAuth)).statusCode).toBe(200);
    expect((await plain({ authorization: 'Bearer not-a-token-of-anyone-at-all' })).statusCode).toBe(401);
  });
});

describe('TokenAuth', () => {
  const agents = { file: 'agent-tokens', lines: parseAgentTokens(`${AGENT_TOKEN}\nweb1 ${NAMED_TOKENS.web1}\n`).lines };
  const auth = new TokenAuth({ agents, admin: [ADMIN_TOKEN] });
  const bearer = (token: string) => `Bearer ${token}`;

  it('says who spoke: the agent its token names, an unbound agent, or an admin', () => {
    expect(auth.check('agent', bearer(NAMED_TOKENS.web1), 'web1')).toEqual({ role: 'agent', owner: 'web1' });
    expect(auth.check('agent', bearer(NAMED_TOKENS.web1))).toEqual({ role: 'agent', owner: 'web1' });
    expect(auth.check('agent', bearer(AGENT_TOKEN), 'app9')).toEqual({ role: 'agent', owner: undefined });
    expect(auth.check('agent', bearer(ADMIN_TOKEN), 'web1')).toEqual({ role: 'admin' });
  });

  it('refuses a token speaking for a name not its own, naming its owner', () => {
    expect(() => auth.check('agent', bearer(NAMED_TOKENS.web1), 'app9')).toThrow(WrongAgent);
    expect(() => auth.check('agent', bearer(NAMED_TOKENS.web1), 'app9')).toThrow(
      'this token speaks for web1 only, not for app9 (no agent of that name has a token)',
    );
    expect(() => auth.check('agent', bearer(AGENT_TOKEN), 'web1')).toThrow(
      'this token speaks for the unbound token of line 1 only, not for web1',
    );
    expect(() => auth.check('agent', bearer('unknown-token-0123456789'), 'web1')).toThrow('unknown token');
  });

  it('a connection let in once is let in again with the same header only, and not after its token is removed', () => {
    const own = new TokenAuth({ agents, admin: [ADMIN_TOKEN] });
    const [conn, other] = [{}, {}];
    expect(own.check('agent', bearer(NAMED_TOKENS.web1), 'web1', conn)).toEqual({ role: 'agent', owner: 'web1' });
    expect(own.check('agent', bearer(NAMED_TOKENS.web1), 'web1', conn)).toEqual({ role: 'agent', owner: 'web1' });
    expect(() => own.check('agent', bearer(NAMED_TOKENS.web1), 'app9', conn)).toThrow(WrongAgent);
    expect(() => own.check('agent', bearer('unknown-token-0123456789'), 'web1', conn)).toThrow('unknown token');
    expect(() => own.check('admin', bearer(NAMED_TOKENS.web1), undefined, other)).toThrow('needs an admin token');
    own.check('agent', bearer(NAMED_TOKENS.web1), 'web1', conn);
    own.replaceAgents({ file: 'agent-tokens', lines: parseAgentTokens(`${AGENT_TOKEN}\n`).lines });
    expect(() => own.check('agent', bearer(NAMED_TOKENS.web1), 'web1', conn)).toThrow('unknown token');
  });

  it('logs a refusal once a minute per owner and name, then counts the ones it held back', () => {
    let now = 0;
    const refusals = new RefusalLog(() => now);
    const error = new WrongAgent('web1', 'web2', true);
    expect(refusals.line(error, '10.0.0.5')?.message).toMatch(/^refused a request from 10.0.0.5 as agent web2 with the token of web1:/);
    expect(refusals.line(error, '10.0.0.5')).toBeUndefined();
    expect(refusals.line(new WrongAgent('web1', 'web3', true), '10.0.0.5')).toBeDefined();
    now = 61_000;
    expect(refusals.line(error, '10.0.0.5')?.message).toContain('(and 1 more such requests in the last minute)');
  });
});

describe('the agent tokens file', () => {
  it('reads NAME TOKEN lines and bare lines, comments and blank lines aside', () => {
    const text = `# fleet\n\nweb1 ${NAMED_TOKENS.web1}\n  ${AGENT_TOKEN}  \r\nweb2\t${NAMED_TOKENS.web2}\n`;
    expect(parseAgentTokens(text)).toEqual({
      lines: [
        { line: 3, name: 'web1', token: NAMED_TOKENS.web1 },
        { line: 4, token: AGENT_TOKEN },
        { line: 5, name: 'web2', token: NAMED_TOKENS.web2 },
      ],
      problems: [],
    });
  });

  it('refuses a name twice, a token under two names, bad names and short tokens, by line, never printing a token', () => {
    const text = [
      `web1 ${NAMED_TOKENS.web1}`,
      `web1 ${NAMED_TOKENS.web2}`,
      `web2 ${NAMED_TOKENS.web1}`,
      `we/b3 ${NAMED_TOKENS.web3}`,
      'web4 short',
      `web5 ${NAMED_TOKENS.web3} extra`,
    ].join('\n');
    const { problems } = parseAgentTokens(text);
    expect(problems).toEqual([
      'line 2: agent web1 already has a token on line 1',
      'line 3: the same token as line 1: each token speaks for one agent',
      'line 4: agent name "we/b3": letters, digits, ".", "_" and "-" only, 128 chars at most',
      'line 5: a token needs at least 16 characters (this one has 5)',
      'line 6: expected "NAME TOKEN", found 3 fields',
    ]);
    expect(problems.join('\n')).not.toContain(NAMED_TOKENS.web1);
    expect(parseAgentTokens('# nothing yet\n')).toEqual({ lines: [], problems: [] });
  });

  it('warns of bare lines, naming the file and the command that converts it, and of no line at all', () => {
    const lines = parseAgentTokens(`${AGENT_TOKEN}\nweb1 ${NAMED_TOKENS.web1}\n`).lines;
    const [warning = ''] = tokenWarnings({ file: '/etc/pullover/agent-tokens', lines });
    expect(warning).toMatch(/^\/etc\/pullover\/agent-tokens: 1 token line\(s\) without an agent name \(line 1\): /);
    expect(warning.endsWith('pullover-controller convert-tokens --file /etc/pullover/agent-tokens --names NAME,...')).toBe(true);
    expect(tokenWarnings({ file: 'f', lines: lines.slice(1) })).toEqual([]);
    expect(tokenWarnings({ file: 'f', lines: [] })).toEqual([
      'f holds no agent token yet: no agent can poll until its "NAME TOKEN" line is added (read on change)',
    ]);
  });
});

describe('the agent tokens file of a running controller', () => {
  it('takes a new agent\'s line without a restart, and keeps the tokens it had when the file turns bad', async () => {
    const dir = await tempDir();
    await writeSecrets(dir);
    const file = join(dir, 'controller.yaml');
    await writeFile(file, JSON.stringify(configDoc(dir, [LOOPBACK_CLUSTER])));
    const log = logCapture();
    const c = await startController(await loadConfig(file), { logger: log.logger, listen: { host: '127.0.0.1', port: 0 } });
    try {
      const newcomer = 'web9-token-0123456789abcdef';
      const pollAs = async (name: string, token: string) =>
        (await fetch(`${c.url}/v1/mapping?wait=0&agent=${name}`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect(await pollAs('web9', newcomer)).toBe(401);
      await appendFile(join(dir, 'agent-tokens'), `web9 ${newcomer}\n`);
      await expect.poll(() => pollAs('web9', newcomer), { timeout: 5000 }).toBe(200);
      expect(log.messages()).toContain(`${join(dir, 'agent-tokens')} read again: 5 agent token(s)`);

      await appendFile(join(dir, 'agent-tokens'), 'web9 a-second-token-for-web9\n');
      await expect.poll(() => log.messages().some((m) => m.includes('changed but is refused')), { timeout: 5000 }).toBe(true);
      expect(await pollAs('web9', newcomer)).toBe(200);
    } finally {
      await c.close();
    }
  });
});
