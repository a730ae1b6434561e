// Which controller a remote command talks to, as the command line says it. Apart from
// endpoint.ts, which reads files and opens connections: checking the flags costs --help nothing.
import { UsageError } from '../errors.js';

/** How the operator said which controller to talk to: its config, or its URL and a token file. */
export interface EndpointFlags {
  readonly config?: string | undefined;
  readonly url?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly caFile?: string | undefined;
}

/** Refuses a command line that names no controller, or names it twice. */
export function checkEndpointFlags(flags: EndpointFlags): EndpointFlags {
  if (flags.config !== undefined && (flags.url !== undefined || flags.tokenFile !== undefined)) {
    throw new UsageError('give either --config, or --url and --token-file, not both');
  }
  if (flags.config === undefined && (flags.url === undefined || flags.tokenFile === undefined)) {
    throw new UsageError('say which controller: --config FILE, or --url URL and --token-file FILE');
  }
  return flags;
}
