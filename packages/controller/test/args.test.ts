import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/cli/args.js';
import { UsageError } from '../src/index.js';

const BY_CONFIG = ['--config', '/etc/pullover/controller.yaml'];
const target = { config: '/etc/pullover/controller.yaml', url: undefined, tokenFile: undefined, caFile: undefined };

describe('parseCommand', () => {
  it.each([
    ['failover', ['failover', '--cluster', 'myservice', ...BY_CONFIG], { kind: 'failover', cluster: 'myservice', to: undefined, reason: undefined }],
    [
      'failover onto a named replica, with a reason',
      ['failover', '--cluster', 'myservice', '--to', 'mysql2', '--reason', 'mysql1 lost its disk', ...BY_CONFIG],
      { kind: 'failover', cluster: 'myservice', to: 'mysql2', reason: 'mysql1 lost its disk' },
    ],
    ['ack', ['ack', '--cluster', 'myservice', ...BY_CONFIG], { kind: 'ack', cluster: 'myservice' }],
    ['history', ['history', ...BY_CONFIG], { kind: 'history', json: false }],
    ['history as JSON', ['history', '--json', ...BY_CONFIG], { kind: 'history', json: true }],
    ['status', ['status', ...BY_CONFIG], { kind: 'status', json: false }],
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
    for (const command of ['failover', 'ack', 'history']) expect(parseCommand([command, '--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    ['failover without --cluster', ['failover', ...BY_CONFIG], 'failover needs --cluster CLUSTER'],
    ['ack without --cluster', ['ack', ...BY_CONFIG], 'ack needs --cluster CLUSTER'],
    ['ack with a stray argument', ['ack', '--cluster', 'c', 'mysql2', ...BY_CONFIG], 'ack takes no argument "mysql2"'],
    ['failover naming the server without --to', ['failover', '--cluster', 'c', 'mysql2', ...BY_CONFIG], 'failover takes no argument "mysql2"'],
    ['history without a controller', ['history'], 'say which controller: --config FILE, or --url URL and --token-file FILE'],
    ['history with both ways to a controller', ['history', ...BY_CONFIG, '--url', 'http://x'], 'give either --config, or --url and --token-file, not both'],
    ['an unknown flag', ['ack', '--cluster', 'c', '--force', ...BY_CONFIG], '\'--force\''],
    ['switchover, which is not there yet', ['switchover'], 'switchover is not available in this version'],
    ['an unknown command', ['promote'], 'unknown command "promote"'],
  ])('refuses %s', (_name, argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
