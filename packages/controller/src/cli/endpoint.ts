import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { clientHost, formatHostPort } from '../config/listen.js';
import { readTokens } from '../config/tokens.js';
import { ConfigError, describeCause, UsageError } from '../errors.js';
import type { EndpointFlags } from './endpoint-flags.js';
import { type Transport, transportFor } from './http.js';

/** A running controller and how to talk to it. */
export interface Endpoint {
  readonly url: string;
  readonly token: string;
  readonly transport: Transport;
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

/** --url, --token-file and --ca-file, or everything derived from the controller's own config. */
export async function resolveEndpoint(flags: EndpointFlags): Promise<Endpoint> {
  const ca = flags.caFile === undefined ? undefined : await readCa(flags.caFile);
  if (flags.config === undefined) {
    const url = flags.url ?? '';
    if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
      throw new UsageError(`--url must be an http:// or https:// URL, not "${url}"`);
    }
    const token = await firstToken(flags.tokenFile ?? '', '--token-file: ');
    return { url: url.replace(/\/+$/, ''), token, transport: transportFor(url, ca === undefined ? {} : { ca }) };
  }

  // Only here: yaml and the config's schema cost a --url command line nothing.
  const { readConfigFile } = await import('../config/load.js');
  const config = await readConfigFile(flags.config);
  const token = await firstToken(config.auth.admin_tokens_file, `${config.source}: auth.admin_tokens_file: `);
  const scheme = config.tls ? 'https' : 'http';
  const url = `${scheme}://${formatHostPort(clientHost(config.listen.host), config.listen.port)}`;
  if (!config.tls) return { url, token, transport: transportFor(url) };

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
  return { url, token, transport: transportFor(url, tls) };
}
