import { describe, expect, it } from 'vitest';
import { type CommandName, parseCommand } from '../src/cli/args.js';
import { main } from '../src/cli/main.js';
import { COMMANDS } from '../src/cli/table.js';
import { UsageError } from '../src/index.js';

const BY_CONFIG = ['--config', '/etc/pullover/controller.yaml'];
const endpoint = { config: '/etc/pullover/controller.yaml', urls: undefined, tokenFile: undefined, caFile: undefined };

describe('parseCommand', () => {
  it.each([
    ['failover', ['failover', '--cluster', 'myservice', ...BY_CONFIG], { kind: 'failover', cluster: 'myservice', to: undefined, reason: undefined, force: false }],
    ['failover past a failed fence', ['failover', '--cluster', 'c', '--force', ...BY_CONFIG], { kind: 'failover', cluster: 'c', to: undefined, reason: undefined, force: true }],
    ['set-writable', ['set-writable', '--cluster', 'myservice', ...BY_CONFIG], { kind: 'set-writable', cluster: 'myservice' }],
    [
      'failover onto a named replica, with a reason',
      ['failover', '--cluster', 'myservice', '--to', 'mysql2', '--reason', 'mysql1 lost its disk', ...BY_CONFIG],
      { kind: 'failover', cluster: 'myservice', to: 'mysql2', reason: 'mysql1 lost its disk', force: false },
    ],
    ['ack', ['ack', '--cluster', 'myservice', ...BY_CONFIG], { kind: 'ack', cluster: 'myservice' }],
    [
      'pause',
      ['pause', '--cluster', 'myservice', '--for', '2h', '--reason', 'upgrade', ...BY_CONFIG],
      { kind: 'pause', cluster: 'myservice', forS: 7200, reason: 'upgrade' },
    ],
    ['pause for 90 s', ['pause', '--cluster', 'c', '--for', '90s', ...BY_CONFIG], { kind: 'pause', cluster: 'c', forS: 90, reason: undefined }],
    ['resume', ['resume', '--cluster', 'myservice', ...BY_CONFIG], { kind: 'resume', cluster: 'myservice' }],
    ['events', ['events', '--follow', '--cluster', 'c', ...BY_CONFIG], { kind: 'events', cluster: 'c', follow: true, json: false }],
    ['history', ['history', ...BY_CONFIG], { kind: 'history', json: false }],
    ['history as JSON', ['history', '--json', ...BY_CONFIG], { kind: 'history', json: true }],
    ['status', ['status', ...BY_CONFIG], { kind: 'status', json: false }],
    ['switchover', ['switchover', '--cluster', 'myservice', ...BY_CONFIG], { kind: 'switchover', cluster: 'myservice', request: {} }],
    [
      'switchover with every option',
      ['switchover', '--cluster', 'c', '--to', 'mysql2', '--max-lag', '2.5', '--timeout', '3s', '--dry-run', '--reason', 'kernel update', ...BY_CONFIG],
      {
        kind: 'switchover',
        cluster: 'c',
        request: { to: 'mysql2', max_lag_s: 2.5, catchup_timeout_s: 3, dry_run: true, reason: 'kernel update' },
      },
    ],
    ['rejoin', ['rejoin', '--cluster', 'myservice', 'mysql1', ...BY_CONFIG], { kind: 'rejoin', cluster: 'myservice', server: 'mysql1' }],
  ])('%s', (_name, argv, expected) => {
    expect(parseCommand(argv)).toEqual({ ...expected, endpoint });
  });

  it('takes the controller from --url and --token-file too', () => {
    expect(parseCommand(['ack', '--cluster', 'c', '--url', 'https://ctl:7420', '--token-file', '/t', '--ca-file', '/ca'])).toEqual({
      kind: 'ack',
      cluster: 'c',
      endpoint: { config: undefined, urls: ['https://ctl:7420'], tokenFile: '/t', caFile: '/ca' },
    });
  });

  it('takes several controllers, the --url repeated or comma-separated, each once, in the order given', () => {
    const argv = ['leader', '--url', 'https://c1:7420/,https://c2:7420', '--url', 'https://c3:7420', '--url', 'https://c1:7420', '--token-file', '/t'];
    expect(parseCommand(argv)).toEqual({
      kind: 'leader',
      json: false,
      endpoint: { config: undefined, urls: ['https://c1:7420', 'https://c2:7420', 'https://c3:7420'], tokenFile: '/t', caFile: undefined },
    });
    expect(() => parseCommand(['leader', '--url', ',', '--token-file', '/t'])).toThrow(new UsageError('--url names no URL'));
  });

  it('answers --help for every command', () => {
    for (const command of ['failover', 'ack', 'history', 'switchover', 'rejoin', 'pause', 'resume', 'events']) expect(parseCommand([command, '--help'])).toEqual({ kind: 'help', command });
  });

  it.each([
    ['failover without --cluster', ['failover', ...BY_CONFIG], 'failover needs --cluster CLUSTER'],
    ['ack without --cluster', ['ack', ...BY_CONFIG], 'ack needs --cluster CLUSTER'],
    ['ack with a stray argument', ['ack', '--cluster', 'c', 'mysql2', ...BY_CONFIG], 'ack takes no argument "mysql2"'],
    ['failover naming the server without --to', ['failover', '--cluster', 'c', 'mysql2', ...BY_CONFIG], 'failover takes no argument "mysql2"'],
    ['history without a controller', ['history'], 'say which controller: --config FILE, or --url URL and --token-file FILE'],
    ['history with both ways to a controller', ['history', ...BY_CONFIG, '--url', 'http://x'], 'give either --config, or --url and --token-file, not both'],
    ['an unknown flag', ['ack', '--cluster', 'c', '--force', ...BY_CONFIG], '\'--force\''],
    ['switchover without a cluster', ['switchover', '--config', 'c.yaml'], 'switchover needs --cluster CLUSTER'],
    ['switchover with a bad lag', ['switchover', '--config', 'c.yaml', '--cluster', 'c', '--max-lag', 'x'], '--max-lag takes a number of seconds, not "x"'],
    ['rejoin without a server', ['rejoin', '--config', 'c.yaml', '--cluster', 'c'], 'rejoin needs exactly one server NAME'],
    ['an unknown command', ['promote'], 'unknown command "promote"'],
    ['pause without --for', ['pause', '--cluster', 'c', ...BY_CONFIG], 'pause needs --for DURATION (e.g. 30m, 2h)'],
    ['pause for a bare number', ['pause', '--cluster', 'c', '--for', '30', ...BY_CONFIG], '--for takes a duration like 30m, 2h or 1d'],
    ['pause for longer than a week', ['pause', '--cluster', 'c', '--for', '8d', ...BY_CONFIG], 'at most 7 days, not "8d"'],
  ])('refuses %s', (_name, argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});

/** An example command line as a shell would split it: words, and "quoted words". */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

const NAMES = Object.keys(COMMANDS) as CommandName[];
const REMOTE = { config: undefined, urls: ['https://ctl:7420'], tokenFile: '/t', caFile: undefined };
const BY_URL = ['--url', 'https://ctl:7420', '--token-file', '/t'];

describe('the command table', () => {
  it.each(NAMES)('%s: every example parses as that command', (name) => {
    expect(COMMANDS[name].examples.length).toBeGreaterThan(0);
    for (const example of COMMANDS[name].examples) expect(parseCommand(words(example))).toMatchObject({ kind: name });
  });

  it.each(NAMES)('%s: each required option, left out of the example, is named', (name) => {
    const example = words(COMMANDS[name].examples[0]!);
    for (const [option, spec] of Object.entries(COMMANDS[name].options)) {
      if (!spec.required) continue;
      const at = example.indexOf(`--${option}`);
      const without = [...example.slice(0, at), ...example.slice(at + 2)];
      expect(() => parseCommand(without)).toThrow(new RegExp(`^${name} needs --${option} ${spec.arg}`));
    }
  });

  it.each(NAMES)('%s --help and help %s: that command\'s usage, options and examples only', async (name) => {
    expect(parseCommand([name, '--help'])).toEqual({ kind: 'help', command: name });
    expect(parseCommand([name, '-h'])).toEqual({ kind: 'help', command: name });
    expect(parseCommand(['help', name])).toEqual({ kind: 'help', command: name });
    const out: string[] = [];
    expect(await main([name, '--help'], { out: (t) => out.push(t), err: () => {} })).toBe(0);
    const text = out.join('\n');
    expect(text.startsWith(`usage: pullover-controller ${name} `)).toBe(true);
    for (const option of Object.keys(COMMANDS[name].options)) expect(text).toMatch(new RegExp(`^ {2}(-\\w, )?--${option}\\b`, 'm'));
    for (const example of COMMANDS[name].examples) expect(text).toContain(`\n  pullover-controller ${example}\n`);
    expect(text).toContain(COMMANDS[name].remote ? '--token-file FILE' : 'exit codes');
    expect(text).not.toContain('commands:');
    for (const other of NAMES.filter((n) => n !== name && !n.startsWith(name) && !name.startsWith(n))) {
      expect(text).not.toContain(`pullover-controller ${other} `);
    }
  });

  it('--help, -h, help and no command at all: the whole list', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], [], ['help', 'promote']]) expect(parseCommand(argv)).toEqual({ kind: 'help' });
    const out: string[] = [];
    expect(await main(['--help'], { out: (t) => out.push(t), err: () => {} })).toBe(0);
    const text = out.join('\n');
    for (const name of NAMES) {
      expect(text).toMatch(new RegExp(`^ {2}${name}\\b`, 'm'));
      expect(text).toContain(`pullover-controller ${COMMANDS[name].examples[0]}\n`);
    }
    expect(text).toContain('all but run, check, import-mha, convert-tokens and migrate-state talk to a running controller');
  });

  it('still checks a command line that asks for help: a misspelt flag is not ignored', () => {
    expect(() => parseCommand(['pause', '--help', '--four', '2h'])).toThrow(UsageError);
  });

  it.each([
    ['run', ['run', '--config', 'c.yaml'], { kind: 'run', config: 'c.yaml', logLevel: 'info' }],
    ['run at debug', ['run', '--config', 'c.yaml', '--log-level', 'debug'], { kind: 'run', config: 'c.yaml', logLevel: 'debug' }],
    ['check', ['check', '--config', 'c.yaml'], { kind: 'check', config: 'c.yaml' }],
    ['status as JSON', ['status', '--json', ...BY_URL], { kind: 'status', json: true, endpoint: REMOTE }],
    ['history', ['history', ...BY_URL], { kind: 'history', json: false, endpoint: REMOTE }],
    ['events of every cluster', ['events', ...BY_URL], { kind: 'events', cluster: undefined, follow: false, json: false, endpoint: REMOTE }],
    ['events -f as JSON', ['events', '-f', '--json', ...BY_URL], { kind: 'events', cluster: undefined, follow: true, json: true, endpoint: REMOTE }],
    ['set-master', ['set-master', '--cluster', 'c', 'mysql2', '--reason', 'r', ...BY_URL], { kind: 'set-master', cluster: 'c', server: 'mysql2', reason: 'r', endpoint: REMOTE }],
    ['set-writable', ['set-writable', '--cluster', 'c', ...BY_URL], { kind: 'set-writable', cluster: 'c', endpoint: REMOTE }],
    ['import-mha', ['import-mha', 'g.cnf'], { kind: 'import-mha', files: ['g.cnf'], out: undefined, cluster: 'myservice', hostnames: ['mysql-master.myservice.com'] }],
  ])('parses %s', (_name, argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected);
  });

  it.each([
    ['run without --config', ['run'], 'run needs --config FILE'],
    ['run at a level pino lacks', ['run', '--config', 'c.yaml', '--log-level', 'loud'], '--log-level must be one of trace, debug, info, warn, error, fatal'],
    ['set-master without --cluster', ['set-master', 'mysql2', ...BY_URL], 'set-master needs --cluster CLUSTER'],
    ['set-master with two servers', ['set-master', '--cluster', 'c', 'mysql2', 'mysql3', ...BY_URL], 'set-master needs exactly one server NAME'],
    ['status with an argument', ['status', 'now', ...BY_URL], 'status takes no argument "now"'],
  ])('refuses %s', (_name, argv, message) => {
    expect(() => parseCommand(argv)).toThrow(new UsageError(message));
  });
});

describe('durations on the command line: the config\'s grammar', () => {
  const pause = (text: string) => parseCommand(['pause', '--cluster', 'c', '--for', text, ...BY_URL]);
  const switchover = (...flags: string[]) => parseCommand(['switchover', '--cluster', 'c', ...flags, ...BY_URL]);

  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['1d', 86_400],
    ['7d', 604_800],
  ])('pause --for %s is %i s', (text, seconds) => {
    expect(pause(text)).toMatchObject({ forS: seconds });
  });

  it.each([
    ['30', '--for takes a duration like 30m, 2h or 1d, not "30" (a bare number has no unit)'],
    ['soon', '--for takes a duration like 30m, 2h or 1d, not "soon"'],
    ['1.5s', '--for takes whole seconds, not "1.5s"'],
    ['0s', '--for takes at least 1s, not "0s"'],
    ['7d1s', '--for takes at most 7 days, not "7d1s"'],
  ])('pause --for %s is refused, naming the option and what is wrong', (text, message) => {
    expect(() => pause(text)).toThrow(new UsageError(message));
  });

  it.each([
    [['--max-lag', '2'], { max_lag_s: 2 }],
    [['--max-lag', '2.5s'], { max_lag_s: 2.5 }],
    [['--max-lag', '500ms'], { max_lag_s: 0.5 }],
    [['--timeout', '1m'], { catchup_timeout_s: 60 }],
    [['--timeout', '1m30s'], { catchup_timeout_s: 90 }],
    [['--timeout', '.5'], { catchup_timeout_s: 0.5 }],
  ])('switchover %j: a bare number is seconds, as before; a duration works too', (flags, request) => {
    expect(switchover(...flags)).toMatchObject({ request });
  });

  it.each([
    [['--timeout', 'x'], '--timeout takes a number of seconds, not "x" (or a duration: 500ms, 3s, 1m)'],
    [['--max-lag=-1'], '--max-lag takes a number of seconds, not "-1" (or a duration: 500ms, 3s, 1m)'],
    [['--max-lag', '5 s'], '--max-lag takes a number of seconds, not "5 s" (or a duration: 500ms, 3s, 1m)'],
  ])('switchover %j is refused, naming the option', (flags, message) => {
    expect(() => switchover(...flags)).toThrow(new UsageError(message));
  });
});
