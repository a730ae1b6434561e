import { ConfigError, describeCause, UsageError } from '../errors.js';
import { parseCommand } from './args.js';
import type { Output } from './spec.js';
import { isCommandName, runCommand } from './table.js';
import { commandUsage, fullUsage } from './usage.js';

const STDIO: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Runs one command line; resolves with the exit code: 0 ok, 1 the operation failed, 2 bad usage or config. */
export async function main(argv: readonly string[], io: Output = STDIO): Promise<number> {
  try {
    const command = parseCommand(argv);
    if (command.kind !== 'help') return await runCommand(command, io);
    io.out(command.command === undefined ? fullUsage() : commandUsage(command.command));
    return 0;
  } catch (error) {
    // One clear line (one per problem for a config) and no stack trace: the reader is an operator.
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 2;
    }
    if (error instanceof UsageError) {
      const about = argv[0] !== undefined && isCommandName(argv[0]) ? `${argv[0]} --help` : '--help';
      io.err(`pullover-controller: ${error.message} (see pullover-controller ${about})`);
      return 2;
    }
    io.err(`pullover-controller: ${describeCause(error)}`);
    return 1;
  }
}
