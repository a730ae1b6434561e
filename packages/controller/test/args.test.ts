import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/cli/args.js';
import { UsageError } from '../src/index.js';

const BY_CONFIG = ['--config', '/etc/pullover/controller.yaml'];
const target = { config: '/etc/pullover/controller.yaml', url: undefined, tokenFile: undefined, caFile: undefined };

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
    expect(parseCommand(argv)).toEqual({ ...expected, target });
  });

  it('takes the controller from --url and --token-file too', () => {
    expect(parseCommand(['ack', '--cluster', 'c', '--url', 'https://ctl:7420', '--token-file', '/t', '--ca-file', '/ca'])).toEqual({
      kind: 'ack',
      cluster: 'c',
      target: { config: undefined, url: 'https://ctl:7420', tokenFile: '/t', caFile: '/ca' },
    });
  });

  it('answers --help for every command', () => {
    for (const command of ['failover', 'ack', 'history', 'switchover', 'rejoin', 'pause', 'resume', 'events']) expect(parseCommand([command, '--help'])).toEqual({ kind: 'help' });
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
