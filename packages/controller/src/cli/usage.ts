// --help, written from the command table: what help shows is what parsing accepts.
import { type CommandEntry, ENDPOINT, HELP, type OptionSpec, type OptionSpecs } from './spec.js';
import { type CommandName, COMMANDS } from './table.js';

const PROGRAM = 'pullover-controller';
/** Where descriptions start, and where they wrap. */
const COLUMN = 46;
const WIDTH = 120;

/** How a remote command names its controllers without the controller's config. */
const EXPLICIT = '--url URL[,URL...] --token-file FILE [--ca-file FILE]';

const EXIT_CODES =
  'exit codes: 0 ok, 1 the operation failed (for check: a failover would not work), 2 bad usage or bad config';

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

/** `left` in the first column, `text` wrapped in the second; `left` gets a line of its own when too wide. */
function columns(left: string, text: string): string[] {
  const [first = '', ...rest] = wrap(text, WIDTH - COLUMN);
  const indent = ' '.repeat(COLUMN);
  const head = `  ${left}`.length < COLUMN - 1 ? [`  ${left}`.padEnd(COLUMN) + first] : [`  ${left}`, indent + first];
  return [...head, ...rest.map((line) => indent + line)];
}

function label(name: string, spec: OptionSpec): string {
  return `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.arg ? ` ${spec.arg}` : ''}`;
}

/** "pause --cluster CLUSTER --for DURATION [--reason TEXT]": required options, arguments, then the rest. */
function synopsis(name: string, entry: CommandEntry<object>): string {
  const options = Object.entries(entry.options);
  const wanted = entry.positionals;
  return [
    name,
    ...options.filter(([, spec]) => spec.required).map(([option, spec]) => label(option, spec)),
    ...(wanted.count === 'none' ? [] : [`${wanted.arg}${wanted.count === 'some' ? '...' : ''}`]),
    ...options
      .filter(([, spec]) => !spec.required)
      .map(([option, spec]) => `[${label(option, spec).replace(/^-\w, /, '')}]${spec.multiple ? '...' : ''}`),
  ].join(' ');
}

function optionLines(options: OptionSpecs): string[] {
  return Object.entries(options).flatMap(([option, spec]) => columns(label(option, spec), spec.help));
}

const entries = Object.entries(COMMANDS) as [CommandName, CommandEntry<object>][];

/** `--help`: every command, how to name the controller, an example of each. */
export function fullUsage(): string {
  const locals = entries.filter(([, entry]) => !entry.remote).map(([name]) => name);
  return [
    `usage: ${PROGRAM} COMMAND [OPTIONS]`,
    '',
    'commands:',
    ...entries.flatMap(([name, entry]) => columns(synopsis(name, entry), entry.summary)),
    '',
    `all but ${locals.slice(0, -1).join(', ')} and ${locals.at(-1)} talk to a running controller, found either from its config`,
    ...columns('--config FILE', 'url from listen, admin token from auth.admin_tokens_file'),
    'or explicitly',
    `  ${EXPLICIT}`,
    ...columns('--url URL,URL...', 'several controllers sharing etcd: a write goes to the leader, wherever it is sent'),
    '',
    'examples:',
    ...entries.map(([, entry]) => `  ${PROGRAM} ${entry.examples[0]}`),
    '',
    `${PROGRAM} COMMAND --help: that command's options, each explained, and examples`,
    EXIT_CODES,
  ].join('\n');
}

/** `COMMAND --help`: its usage, every option it takes, its examples. */
export function commandUsage(name: CommandName): string {
  const entry: CommandEntry<object> = COMMANDS[name];
  return [
    `usage: ${PROGRAM} ${synopsis(name, entry)}${entry.remote ? ' CONTROLLER' : ''}`,
    '',
    ...wrap(entry.summary, WIDTH),
    '',
    'options:',
    ...optionLines({ ...entry.options, ...HELP }),
    ...(entry.remote
      ? ['', `CONTROLLER: --config FILE, or ${EXPLICIT}`, ...optionLines(ENDPOINT)]
      : []),
    '',
    'examples:',
    ...entry.examples.map((example) => `  ${PROGRAM} ${example}`),
    '',
    EXIT_CODES,
  ].join('\n');
}
