import { parseArgs } from 'node:util';
import { isHostname, MAX_PAUSE_SECONDS, Name, type SwitchoverRequest } from '@pullover/protocol';
import { UsageError } from '../errors.js';

export interface TargetFlags {
  readonly config?: string | undefined;
  readonly url?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly caFile?: string | undefined;
}

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly config: string; readonly logLevel: string }
  | { readonly kind: 'check'; readonly config: string }
  | { readonly kind: 'status'; readonly target: TargetFlags; readonly json: boolean }
  | {
    readonly kind: 'set-master';
    readonly target: TargetFlags;
    readonly cluster: string;
    readonly server: string;
    readonly reason?: string | undefined;
  }
  | {
    readonly kind: 'failover';
    readonly target: TargetFlags;
    readonly cluster: string;
    readonly to?: string | undefined;
    readonly reason?: string | undefined;
    readonly force: boolean;
  }
  | { readonly kind: 'ack' | 'set-writable'; readonly target: TargetFlags; readonly cluster: string }
  | {
    readonly kind: 'pause';
    readonly target: TargetFlags;
    readonly cluster: string;
    readonly forS: number;
    readonly reason?: string | undefined;
  }
  | { readonly kind: 'resume'; readonly target: TargetFlags; readonly cluster: string }
  | { readonly kind: 'history'; readonly target: TargetFlags; readonly json: boolean }
  | {
    readonly kind: 'events';
    readonly target: TargetFlags;
    readonly cluster?: string | undefined;
    readonly follow: boolean;
    readonly json: boolean;
  }
  | {
    readonly kind: 'switchover';
    readonly target: TargetFlags;
    readonly cluster: string;
    readonly request: SwitchoverRequest;
  }
  | { readonly kind: 'rejoin'; readonly target: TargetFlags; readonly cluster: string; readonly server: string }
  | {
    readonly kind: 'import-mha';
    readonly files: readonly string[];
    readonly out?: string | undefined;
    readonly cluster: string;
    readonly hostnames: readonly string[];
  };

const TARGET = {
  'config': { type: 'string' },
  'url': { type: 'string' },
  'token-file': { type: 'string' },
  'ca-file': { type: 'string' },
} as const;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

type Options = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
type Values = Record<string, string | string[] | boolean | undefined>;

function parse(args: string[], options: Options): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function target(values: Values): TargetFlags {
  const flags: TargetFlags = {
    config: values.config as string | undefined,
    url: values.url as string | undefined,
    tokenFile: values['token-file'] as string | undefined,
    caFile: values['ca-file'] as string | undefined,
  };
  if (flags.config !== undefined && (flags.url !== undefined || flags.tokenFile !== undefined)) {
    throw new UsageError('give either --config, or --url and --token-file, not both');
  }
  if (flags.config === undefined && (flags.url === undefined || flags.tokenFile === undefined)) {
    throw new UsageError('say which controller: --config FILE, or --url URL and --token-file FILE');
  }
  return flags;
}

/** "5", "0.5" or "5s" → 5 (seconds). */
function seconds(flag: string, text: string): number {
  const value = Number(text.replace(/s$/, ''));
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${flag} takes a number of seconds, not "${text}"`);
  return value;
}

/** "30m", "2h", "1d", "90s" → seconds, within MAX_PAUSE_SECONDS. */
function pauseSeconds(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m?.[2] as 's' | 'm' | 'h' | 'd'];
  const value = Number(m?.[1]) * unit;
  if (!m || !(value >= 1 && value <= MAX_PAUSE_SECONDS)) {
    throw new UsageError(`--for takes a duration like 30m, 2h or 1d, at most ${MAX_PAUSE_SECONDS / 86400} days, not "${text}"`);
  }
  return value;
}

function clusterFlag(command: string, values: Values): string {
  if (typeof values.cluster !== 'string') throw new UsageError(`${command} needs --cluster CLUSTER`);
  return values.cluster;
}

function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`${command} takes no argument "${positionals[0]}"`);
}

export function parseCommand(argv: readonly string[]): Command {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return { kind: 'help' };
  switch (name) {
    case 'run': {
      const { values, positionals } = parse(args, {
        'config': { type: 'string' },
        'log-level': { type: 'string' },
      });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      if (typeof values.config !== 'string') throw new UsageError('run needs --config FILE');
      const logLevel = typeof values['log-level'] === 'string' ? values['log-level'] : 'info';
      if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
      return { kind: 'run', config: values.config, logLevel };
    }
    case 'check': {
      const { values, positionals } = parse(args, { config: { type: 'string' } });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      if (typeof values.config !== 'string') throw new UsageError('check needs --config FILE');
      return { kind: 'check', config: values.config };
    }
    case 'status': {
      const { values, positionals } = parse(args, { ...TARGET, json: { type: 'boolean' } });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      return { kind: 'status', target: target(values), json: values.json === true };
    }
    case 'set-master': {
      const { values, positionals } = parse(args, {
        ...TARGET,
        cluster: { type: 'string' },
        reason: { type: 'string' },
      });
      if (values.help) return { kind: 'help' };
      if (typeof values.cluster !== 'string') throw new UsageError('set-master needs --cluster CLUSTER');
      if (positionals.length !== 1) throw new UsageError('set-master needs exactly one server NAME');
      return {
        kind: 'set-master',
        target: target(values),
        cluster: values.cluster,
        server: positionals[0] as string,
        reason: typeof values.reason === 'string' ? values.reason : undefined,
      };
    }
    case 'failover': {
      const { values, positionals } = parse(args, {
        ...TARGET,
        cluster: { type: 'string' },
        to: { type: 'string' },
        reason: { type: 'string' },
        force: { type: 'boolean' },
      });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      return {
        kind: 'failover',
        target: target(values),
        cluster: clusterFlag(name, values),
        to: typeof values.to === 'string' ? values.to : undefined,
        reason: typeof values.reason === 'string' ? values.reason : undefined,
        force: values.force === true,
      };
    }
    case 'ack':
    case 'set-writable':
    case 'resume': {
      const { values, positionals } = parse(args, { ...TARGET, cluster: { type: 'string' } });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      return { kind: name, target: target(values), cluster: clusterFlag(name, values) };
    }
    case 'pause': {
      const { values, positionals } = parse(args, {
        ...TARGET,
        cluster: { type: 'string' },
        for: { type: 'string' },
        reason: { type: 'string' },
      });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      if (typeof values.for !== 'string') throw new UsageError('pause needs --for DURATION (e.g. 30m, 2h)');
      return {
        kind: 'pause',
        target: target(values),
        cluster: clusterFlag(name, values),
        forS: pauseSeconds(values.for),
        reason: typeof values.reason === 'string' ? values.reason : undefined,
      };
    }
    case 'history': {
      const { values, positionals } = parse(args, { ...TARGET, json: { type: 'boolean' } });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      return { kind: 'history', target: target(values), json: values.json === true };
    }
    case 'events': {
      const { values, positionals } = parse(args, {
        ...TARGET,
        cluster: { type: 'string' },
        follow: { type: 'boolean', short: 'f' },
        json: { type: 'boolean' },
      });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      return {
        kind: 'events',
        target: target(values),
        cluster: typeof values.cluster === 'string' ? values.cluster : undefined,
        follow: values.follow === true,
        json: values.json === true,
      };
    }
    case 'switchover': {
      const { values, positionals } = parse(args, {
        ...TARGET,
        'cluster': { type: 'string' },
        'to': { type: 'string' },
        'max-lag': { type: 'string' },
        'timeout': { type: 'string' },
        'dry-run': { type: 'boolean' },
        'reason': { type: 'string' },
      });
      if (values.help) return { kind: 'help' };
      noPositionals(name, positionals);
      const request: SwitchoverRequest = {
        ...(typeof values.to === 'string' ? { to: values.to } : {}),
        ...(typeof values['max-lag'] === 'string' ? { max_lag_s: seconds('--max-lag', values['max-lag']) } : {}),
        ...(typeof values.timeout === 'string' ? { catchup_timeout_s: seconds('--timeout', values.timeout) } : {}),
        ...(values['dry-run'] === true ? { dry_run: true } : {}),
        ...(typeof values.reason === 'string' ? { reason: values.reason } : {}),
      };
      return { kind: 'switchover', target: target(values), cluster: clusterFlag(name, values), request };
    }
    case 'rejoin': {
      const { values, positionals } = parse(args, { ...TARGET, cluster: { type: 'string' } });
      if (values.help) return { kind: 'help' };
      if (positionals.length !== 1) throw new UsageError('rejoin needs exactly one server NAME');
      return { kind: 'rejoin', target: target(values), cluster: clusterFlag(name, values), server: positionals[0] as string };
    }
    case 'import-mha': {
      const { values, positionals } = parse(args, {
        out: { type: 'string' },
        cluster: { type: 'string' },
        hostname: { type: 'string', multiple: true },
      });
      if (values.help) return { kind: 'help' };
      if (positionals.length === 0) throw new UsageError('import-mha needs at least one MHA config FILE');
      const cluster = typeof values.cluster === 'string' ? values.cluster : 'myservice';
      if (!Name.safeParse(cluster).success) {
        throw new UsageError(`--cluster "${cluster}": letters, digits, ".", "_" and "-" only`);
      }
      const hostnames = Array.isArray(values.hostname) ? values.hostname : ['mysql-master.myservice.com'];
      const bad = hostnames.find((h) => !isHostname(h));
      if (bad !== undefined) throw new UsageError(`--hostname "${bad}" is not an RFC 1123 hostname`);
      return {
        kind: 'import-mha',
        files: positionals,
        out: typeof values.out === 'string' ? values.out : undefined,
        cluster,
        hostnames: hostnames.map((h) => h.toLowerCase()),
      };
    }
    default:
      throw new UsageError(`unknown command "${name}"`);
  }
}
