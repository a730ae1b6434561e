// What a command of the table is: its options and arguments (which parsing and --help both read,
// so help cannot drift from what is accepted), how its parsed form is built, and how it runs.
import type { AdminClient } from './client.js';
import { checkEndpointFlags, type EndpointFlags, splitUrls } from './endpoint-flags.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** One option of one command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** May be given more than once; the values come as a list. */
  readonly multiple?: boolean;
  /** What the value is, in help and errors: CLUSTER, FILE, DURATION. */
  readonly arg?: string;
  /** Without it the command line is refused: "pause needs --for DURATION (e.g. 30m, 2h)". */
  readonly required?: boolean;
  /** Shown when the option is missing. */
  readonly example?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The parsed options, typed by their specs: required ones are there by the time `build` sees them. */
export type ValuesOf<O extends OptionSpecs> = {
  readonly [K in keyof O]: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? readonly string[] | undefined
      : O[K]['required'] extends true
        ? string
        : string | undefined;
};

/** The arguments after the options: none, exactly one ("rejoin … NAME") or one or more ("import-mha FILE..."). */
export type Positionals =
  | { readonly count: 'none' }
  | { readonly count: 'one' | 'some'; readonly arg: string; readonly what: string };

/** One row of the command table, with its option types erased; made by `local` or `remote`. */
export interface CommandEntry<C> {
  /** What it does, one sentence for the command list; help wraps it. */
  readonly summary: string;
  /** Its own options; a remote command takes the ENDPOINT options as well. */
  readonly options: OptionSpecs;
  readonly positionals: Positionals;
  /** Talks to a running controller. */
  readonly remote: boolean;
  /** Command lines after the program name, each one that parses. */
  readonly examples: readonly string[];
  build(values: Readonly<Record<string, unknown>>, positionals: readonly string[]): C;
  run(command: C, io: Output): Promise<number>;
}

interface Spec<O extends OptionSpecs, C> {
  readonly summary: string;
  readonly options: O;
  readonly positionals?: Positionals;
  readonly examples: readonly string[];
  /** Checks what the options' types cannot (ranges, names) and returns the parsed command; throws UsageError. */
  build(values: ValuesOf<O>, positionals: readonly string[]): C;
}

const NO_POSITIONALS: Positionals = { count: 'none' };

/** A command that runs here: run, check, import-mha. */
export function local<const O extends OptionSpecs, C>(
  spec: Spec<O, C> & { run(command: C, io: Output): Promise<number> },
): CommandEntry<C> {
  return {
    summary: spec.summary,
    options: spec.options,
    positionals: spec.positionals ?? NO_POSITIONALS,
    remote: false,
    examples: spec.examples,
    build: (values, positionals) => spec.build(values as ValuesOf<O>, positionals),
    run: (command, io) => spec.run(command, io),
  };
}

/** How every remote command names its controller. */
export const ENDPOINT = {
  'config': {
    type: 'string',
    arg: 'FILE',
    help: 'the controller\'s own config: the URL from listen, the first token of auth.admin_tokens_file',
  },
  'url': {
    type: 'string',
    multiple: true,
    arg: 'URL',
    help: 'or the controller\'s http:// or https:// URL, with --token-file; several controllers (etcd): repeat it or separate with commas',
  },
  'token-file': { type: 'string', arg: 'FILE', help: 'a file holding the token: admin, or viewer for status, history, events and leader' },
  'ca-file': { type: 'string', arg: 'FILE', help: 'trust this CA\'s PEM certificate for an https:// --url' },
} as const satisfies OptionSpecs;

type Remote<C> = C & { readonly endpoint: EndpointFlags };

/**
 * A command that asks a running controller: `call` gets a client for the controller the
 * command line names (ENDPOINT), and prints the answer.
 */
export function remote<const O extends OptionSpecs, C>(
  spec: Spec<O, C> & { call(client: AdminClient, command: C, io: Output): Promise<number> },
): CommandEntry<Remote<C>> {
  return {
    summary: spec.summary,
    options: spec.options,
    positionals: spec.positionals ?? NO_POSITIONALS,
    remote: true,
    examples: spec.examples,
    build: (values, positionals) => {
      const endpoint = checkEndpointFlags({
        config: values.config as string | undefined,
        urls: splitUrls(values.url as readonly string[] | undefined),
        tokenFile: values['token-file'] as string | undefined,
        caFile: values['ca-file'] as string | undefined,
      });
      return { endpoint, ...spec.build(values as ValuesOf<O>, positionals) };
    },
    run: async (command, io) => {
      // Loaded here, not at start: undici and the response schemas cost --help and usage errors nothing.
      const [{ AdminClient }, { resolveEndpoint }] = await Promise.all([import('./client.js'), import('./endpoint.js')]);
      const client = new AdminClient(await resolveEndpoint(command.endpoint));
      try {
        return await spec.call(client, command, io);
      } finally {
        await client.close();
      }
    },
  };
}

export const HELP = {
  help: { type: 'boolean', short: 'h', help: 'this command\'s usage, options and examples' },
} as const satisfies OptionSpecs;

// Options several commands share, described once.
export const CLUSTER = {
  cluster: { type: 'string', arg: 'CLUSTER', required: true, help: 'the cluster, as named in the controller\'s config' },
} as const satisfies OptionSpecs;

export const REASON = {
  reason: { type: 'string', arg: 'TEXT', help: 'why, for the event log' },
} as const satisfies OptionSpecs;

export const JSON_OUTPUT = {
  json: { type: 'boolean', help: 'the controller\'s answer as JSON, not a table' },
} as const satisfies OptionSpecs;
