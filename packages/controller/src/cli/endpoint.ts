import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { clientHost, formatHostPort } from '../config/listen.js';
import { readTokens } from '../config/tokens.js';
import { BadResponse, ConfigError, describeCause, UsageError } from '../errors.js';
import type { EndpointFlags } from './endpoint-flags.js';
import { type Transport, transportFor } from './http.js';

/** A running controller and how to talk to it. */
export interface Endpoint {
  readonly url: string;
  readonly token: string;
  readonly transport: Transport;
}

/** The controllers a command may ask. */
export interface Endpoints {
  /** As the command line gives them, asked in this order. */
  readonly given: readonly Endpoint[];
  /** A controller another one named as the leader (421): the same token, the same trust. */
  reach(url: string): Endpoint;
  /** Closes every connection opened, to the given controllers and to those reached. */
  close(): void;
}

/** `given` (URLs without a trailing slash), each made once by `make`, as is each one reached. */
export function endpoints(given: readonly string[], make: (url: string) => Endpoint): Endpoints {
  const known = new Map(given.map((url) => [url, make(url)]));
  return {
    given: [...known.values()],
    reach: (url) => {
      const key = url.replace(/\/+$/, '');
      if (!isHttpUrl(key)) throw new BadResponse(`the leader's URL "${url.slice(0, 200)}" is not an http:// or https:// URL`);
      const endpoint = known.get(key) ?? make(key);
      known.set(key, endpoint);
      return endpoint;
    },
    close: () => {
      for (const endpoint of known.values()) endpoint.transport.destroy();
    },
  };
}

function isHttpUrl(url: string): boolean {
  return /^https?:\/\/[^/]/.test(url) && URL.canParse(url);
}

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

/**
 * --url (one or several), --token-file and --ca-file, or everything derived from the controller's
 * own config: that controller alone, and the leader it names when it is not the one.
 */
export async function resolveEndpoint(flags: EndpointFlags): Promise<Endpoints> {
  const ca = flags.caFile === undefined ? undefined : await readCa(flags.caFile);
  if (flags.config === undefined) {
    const urls = flags.urls ?? [];
    const bad = urls.find((url) => !isHttpUrl(url));
    if (bad !== undefined) throw new UsageError(`--url must be an http:// or https:// URL, not "${bad}"`);
    const token = await firstToken(flags.tokenFile ?? '', '--token-file: ');
    return endpoints(urls, (url) => ({ url, token, transport: transportFor(url, ca === undefined ? {} : { ca }) }));
  }

  // Only here: yaml and the config's schema cost a --url command line nothing.
  const { readConfigFile } = await import('../config/load.js');
  const config = await readConfigFile(flags.config);
  const token = await firstToken(config.auth.admin_tokens_file, `${config.source}: auth.admin_tokens_file: `);
  const scheme = config.tls ? 'https' : 'http';
  const url = `${scheme}://${formatHostPort(clientHost(config.listen.host), config.listen.port)}`;
  if (!config.tls) return endpoints([url], (to) => ({ url: to, token, transport: transportFor(to) }));

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
  const tls = {
    ca: ca ?? pem,
    checkServerIdentity: (host: string, cert: PeerCertificate) =>
      cert.fingerprint256 === pinned ? undefined : checkServerIdentity(host, cert),
  };
  // The leader, if another, presents its own certificate: trusted with --ca-file (their CA).
  return endpoints([url], (to) => ({ url: to, token, transport: transportFor(to, tls) }));
}
