import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { type CommandEntry, ENDPOINT, HELP, type OptionSpecs } from './spec.js';
import { type Command, type CommandName, COMMANDS, isCommandName } from './table.js';

export type { Command, CommandName } from './table.js';

/** `--help` alone: the command list; `COMMAND --help` or `help COMMAND`: that command's usage. */
export interface Help {
  readonly kind: 'help';
  readonly command?: CommandName;
}

/** Every option a command accepts: its own, the controller's for a remote one, and --help. */
function optionsOf(entry: CommandEntry<object>): OptionSpecs {
  return {
    ...entry.options,
    ...(entry.remote ? ENDPOINT : {}),
    ...HELP,
  };
}

/**
 * The command line → what to do, checked in one order for every command: unknown or malformed
 * options, --help, the arguments, the required options, which controller, then the command's
 * own checks (durations, names). Throws UsageError naming the first problem.
 */
export function parseCommand(argv: readonly string[]): Command | Help {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') return { kind: 'help' };
  if (name === 'help') {
    const about = args[0];
    return about !== undefined && isCommandName(about) ? { kind: 'help', command: about } : { kind: 'help' };
  }
  if (!isCommandName(name)) throw new UsageError(`unknown command "${name}"`);
  const entry: CommandEntry<object> = COMMANDS[name];
  const specs = optionsOf(entry);
  let parsed;
  try {
    parsed = parseArgs({ args, options: specs, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', command: name };

  const wanted = entry.positionals;
  if (wanted.count === 'none' && positionals.length > 0) {
    throw new UsageError(`${name} takes no argument "${positionals[0]}"`);
  }
  if (wanted.count === 'one' && positionals.length !== 1) {
    throw new UsageError(`${name} needs exactly one ${wanted.what} ${wanted.arg}`);
  }
  if (wanted.count === 'some' && positionals.length === 0) {
    throw new UsageError(`${name} needs at least one ${wanted.what} ${wanted.arg}`);
  }

  const typed: Record<string, unknown> = {};
  for (const [option, spec] of Object.entries(specs)) {
    const value = values[option];
    if (spec.required && value === undefined) {
      throw new UsageError(`${name} needs --${option} ${spec.arg}${spec.example ? ` (e.g. ${spec.example})` : ''}`);
    }
    typed[option] = spec.type === 'boolean' ? value === true : value;
  }
  // The entry under `name` built it, so it is that command's shape.
  return { kind: name, ...entry.build(typed, positionals) } as Command;
}
