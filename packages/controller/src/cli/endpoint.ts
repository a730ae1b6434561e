import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent } from 'undici';
import { clientHost, formatHostPort } from '../config/listen.js';
import { readConfigFile } from '../config/load.js';
import { readTokens } from '../config/tokens.js';
import { ConfigError, describeCause, UsageError } from '../errors.js';
import { CONNECT_MS } from './timeouts.js';

/** How the operator said which controller to talk to: its config, or its URL and a token file. */
export interface EndpointFlags {
  readonly config?: string | undefined;
  readonly url?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly caFile?: string | undefined;
}

/** A running controller and how to talk to it. */
export interface Endpoint {
  readonly url: string;
  readonly token: string;
  readonly dispatcher: Agent;
}

// Only the connection's: how long an answer may take depends on the call (timeouts.ts).
const TIMEOUTS = { connectTimeout: CONNECT_MS };

async function firstToken(file: string, where: string): Promise<string> {
  const { tokens, problems } = await readTokens(file);
  const token = tokens[0];
  if (token === undefined) throw new ConfigError(problems.map((p) => `${where}${p}`));
  return token;
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`--ca-file: cannot read ${file}: ${describeCause(error)}`]);
  }
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

/** --url, --token-file and --ca-file, or everything derived from the controller's own config. */
export async function resolveEndpoint(flags: EndpointFlags): Promise<Endpoint> {
  const ca = flags.caFile === undefined ? undefined : await readCa(flags.caFile);
  if (flags.config === undefined) {
    const url = flags.url ?? '';
    if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
      throw new UsageError(`--url must be an http:// or https:// URL, not "${url}"`);
    }
    const token = await firstToken(flags.tokenFile ?? '', '--token-file: ');
    return { url: url.replace(/\/+$/, ''), token, dispatcher: new Agent({ ...TIMEOUTS, connect: { ca } }) };
  }

  const config = await readConfigFile(flags.config);
  const token = await firstToken(config.auth.admin_tokens_file, `${config.source}: auth.admin_tokens_file: `);
  const scheme = config.tls ? 'https' : 'http';
  const url = `${scheme}://${formatHostPort(clientHost(config.listen.host), config.listen.port)}`;
  if (!config.tls) return { url, token, dispatcher: new Agent(TIMEOUTS) };

  let pem: string;
  try {
    pem = await readFile(config.tls.cert_file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${config.source}: tls.cert_file: cannot read ${config.tls.cert_file}: ${describeCause(error)}`,
    ]);
  }
  // We connect to our own listen address, which the certificate rarely names: accept the peer when
  // it presents exactly the certificate of cert_file, and check the name as usual otherwise.
  const pinned = new X509Certificate(pem).fingerprint256;
  const connect = {
    ca: ca ?? pem,
    checkServerIdentity: (host: string, cert: PeerCertificate) =>
      cert.fingerprint256 === pinned ? undefined : checkServerIdentity(host, cert),
  };
  return { url, token, dispatcher: new Agent({ ...TIMEOUTS, connect }) };
}
