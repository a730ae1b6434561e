// Every command of pullover-controller, in the order --help lists them. A new command is one
// entry here (made with `remote` or `local` in commands/) and, if it asks the controller
// something new, one AdminClient method.
import { ACK, FAILOVER, PAUSE, REJOIN, RESUME, SET_HEARTBEAT, SET_MASTER, SET_WRITABLE, SWITCHOVER } from './commands/changes.js';
import { CHECK, IMPORT_MHA, RUN } from './commands/local.js';
import { MIGRATE_STATE } from './commands/migrate-state.js';
import { EVENTS, HISTORY, LEADER, STATUS } from './commands/reads.js';
import { CONVERT_TOKENS } from './commands/tokens.js';
import type { CommandEntry, Output } from './spec.js';

export const COMMANDS = {
  'run': RUN,
  'check': CHECK,
  'status': STATUS,
  'failover': FAILOVER,
  'switchover': SWITCHOVER,
  'rejoin': REJOIN,
  'set-writable': SET_WRITABLE,
  'set-heartbeat': SET_HEARTBEAT,
  'ack': ACK,
  'pause': PAUSE,
  'resume': RESUME,
  'history': HISTORY,
  'events': EVENTS,
  'leader': LEADER,
  'set-master': SET_MASTER,
  'import-mha': IMPORT_MHA,
  'convert-tokens': CONVERT_TOKENS,
  'migrate-state': MIGRATE_STATE,
} satisfies Record<string, CommandEntry<object>>;

type Table = typeof COMMANDS;
export type CommandName = keyof Table;

/** A parsed command line: the command's name as `kind`, and what its entry built. */
export type Command = {
  [K in CommandName]: { readonly kind: K } & (Table[K] extends CommandEntry<infer C> ? C : never);
}[CommandName];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

export function runCommand(command: Command, io: Output): Promise<number> {
  // The entry that built `command` runs it: its kind is the entry's key.
  const entry: CommandEntry<object> = COMMANDS[command.kind];
  return entry.run(command, io);
}
