import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';

// Everything here ends up as a token on a line of /etc/hosts. Whitespace, '#', a newline or a
// NUL would let a hostile controller inject lines or comments, so only the strict grammars pass.

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 1123 hostname: dot-separated labels of letters, digits and inner hyphens; 253 chars at most. */
export function isHostname(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const labels = name.split('.');
  if (labels.every((l) => /^[0-9]+$/.test(l))) return false; // all-numeric: that is an address
  return labels.every((label) => LABEL.test(label));
}

/** An IPv4 dotted quad or an IPv6 literal without zone index (a zone is host-local, never published). */
export function isAddress(value: string): boolean {
  if (isIPv4(value)) return true;
  return /^[0-9A-Fa-f:.]+$/.test(value) && isIPv6(value);
}

export const Hostname = z
  .string()
  .refine(isHostname, { message: 'not an RFC 1123 hostname' })
  .transform((s) => s.toLowerCase());

export const Address = z.string().refine(isAddress, { message: 'not an IPv4 or IPv6 address literal' });

/** Names of clusters, servers and agents: appear in URLs, logs and file names. */
export const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_" and "-" only, 128 chars at most');
