// Lexing of a hosts file, kept byte-exact: every line keeps its own ending so that joining the
// lines gives back the original bytes (CRLF, a missing final newline, stray `\r`).
import { isIP } from 'node:net';

export interface Line {
  /** The line without its ending. */
  text: string;
  /** `'\n'`, `'\r\n'`, or `''` for a last line without a final newline. */
  eol: string;
}

export function splitLines(content: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < content.length) {
    const nl = content.indexOf('\n', start);
    if (nl === -1) {
      lines.push({ text: content.slice(start), eol: '' });
      break;
    }
    const crlf = nl > start && content[nl - 1] === '\r';
    lines.push({ text: content.slice(start, crlf ? nl - 1 : nl), eol: crlf ? '\r\n' : '\n' });
    start = nl + 1;
  }
  return lines;
}

export function joinLines(lines: readonly Line[]): string {
  return lines.map((line) => line.text + line.eol).join('');
}

/** The first line break in `lines`, if any. */
export function firstEol(lines: readonly Line[]): '\n' | '\r\n' | undefined {
  const eol = lines.find((line) => line.eol !== '')?.eol;
  return eol === '\r\n' || eol === '\n' ? eol : undefined;
}

/** Trailing blanks (and a `\r` left by a last line without `\n`) must not stop a marker matching. */
export function isLine(text: string, exact: string): boolean {
  return text.replace(/[ \t\f\v\r]+$/, '') === exact;
}

/** A host name on a hosts line; `from` includes the blanks before it, so cutting `from..to` leaves a valid line. */
export interface NameToken {
  name: string;
  from: number;
  to: number;
}

export interface HostsLine {
  names: NameToken[];
  /** Where the comment starts (`#` anywhere starts one for glibc), or the text's length. */
  commentAt: number;
}

// glibc splits on isspace(); a non-breaking space is part of a name for it, so not listed here.
const TOKEN = /[ \t\f\v\r]*([^ \t\f\v\r]+)/g;

/**
 * The names of an address line, or null for lines a resolver ignores: blank lines, comments, and
 * lines whose first token is not an IP address (glibc skips them, so they cannot shadow anything).
 */
export function parseHostsLine(text: string): HostsLine | null {
  const hash = text.indexOf('#');
  const commentAt = hash === -1 ? text.length : hash;
  const tokens = [...text.slice(0, commentAt).matchAll(TOKEN)];
  const address = tokens[0]?.[1];
  // A zone index (`fe80::1%eth0`) is accepted by isIP; strip it anyway so no Node version differs.
  if (address === undefined || isIP(address.split('%')[0] ?? '') === 0) return null;
  const names = tokens.slice(1).map((match) => {
    const from = match.index;
    return { name: match[1] ?? '', from, to: from + match[0].length };
  });
  return { names, commentAt };
}
