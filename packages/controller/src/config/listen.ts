import { isIP } from 'node:net';
import { isHostname } from '@pullover/protocol';
import { z } from 'zod';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

/** "0.0.0.0:7420", "[::]:7420", "localhost:7420" → { host, port }; undefined when malformed. */
export function parseListen(text: string): ListenAddress | undefined {
  const match = HOST_PORT.exec(text);
  if (!match) return undefined;
  const [, v6, name, portText] = match;
  const port = Number(portText);
  if (port > 65535) return undefined;
  if (v6 !== undefined) return isIP(v6) === 6 ? { host: v6, port } : undefined;
  if (name === undefined || !(isIP(name) === 4 || isHostname(name))) return undefined;
  return { host: name, port };
}

/** `host:port` in a URL: IPv6 literals need brackets. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

const EXPECTED = 'expected HOST:PORT, like "0.0.0.0:7420" or "[::]:7420"';

export const Listen = z
  .string({
    // An unquoted [::]:7420 is a YAML flow sequence: say how to fix it rather than "expected string".
    error: (issue) => {
      if (issue.input === undefined) return undefined;
      return Array.isArray(issue.input)
        ? 'YAML read this as a list; quote it: listen: "[::]:7420"'
        : EXPECTED;
    },
  })
  .transform((text, ctx) => {
    const listen = parseListen(text);
    if (!listen) {
      ctx.addIssue({ code: 'custom', message: `"${text}": ${EXPECTED}` });
      return z.NEVER;
    }
    return listen;
  });

/** Where a local client reaches a server listening on `host`: the wildcard addresses are not destinations. */
export function clientHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
