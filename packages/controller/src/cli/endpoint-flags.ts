// Which controllers a remote command talks to, as the command line says it. Apart from
// endpoint.ts, which reads files and opens connections: checking the flags costs --help nothing.
import { UsageError } from '../errors.js';

/** How the operator said which controller to talk to: its config, or its URLs and a token file. */
export interface EndpointFlags {
  readonly config?: string | undefined;
  /** Several controllers (etcd): each --url, and each comma-separated URL in one, in the order given. */
  readonly urls?: readonly string[] | undefined;
  readonly tokenFile?: string | undefined;
  readonly caFile?: string | undefined;
}

/** `--url a,b --url c` → [a, b, c]; the same URL twice is asked once. */
export function splitUrls(values: readonly string[] | undefined): readonly string[] | undefined {
  if (values === undefined) return undefined;
  const urls = values.flatMap((value) => value.split(',')).map((url) => url.trim().replace(/\/+$/, ''));
  return [...new Set(urls.filter((url) => url !== ''))];
}

/** Refuses a command line that names no controller, or names it twice. */
export function checkEndpointFlags(flags: EndpointFlags): EndpointFlags {
  if (flags.config !== undefined && (flags.urls !== undefined || flags.tokenFile !== undefined)) {
    throw new UsageError('give either --config, or --url and --token-file, not both');
  }
  if (flags.config === undefined && (flags.urls === undefined || flags.tokenFile === undefined)) {
    throw new UsageError('say which controller: --config FILE, or --url URL and --token-file FILE');
  }
  if (flags.urls?.length === 0) throw new UsageError('--url names no URL');
  return flags;
}
