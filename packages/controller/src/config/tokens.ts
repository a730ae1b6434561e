import { type Stats, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { MIN_TOKEN_LENGTH, type ParsedTokens, parseTokens } from '@pullover/protocol';
import { describeCause } from '../errors.js';

/** Reads a token file; the result's problems are prefixed with nothing, the caller adds the context. */
export async function readTokens(file: string): Promise<ParsedTokens> {
  const text = await readOrProblem(file);
  if (typeof text !== 'string') return { tokens: [], problems: [text.problem] };
  const parsed = parseTokens(text);
  return { tokens: parsed.tokens, problems: parsed.problems.map((p) => `${file} ${p}`) };
}

/** Agent names as the protocol spells them (Name): they appear in URLs, logs and file names. */
export const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** One line of auth.agent_tokens_file: `NAME TOKEN`, or a bare `TOKEN` (the first format, unbound). */
export interface AgentTokenLine {
  /** 1-based, for messages. */
  readonly line: number;
  /** Absent on a bare-token line. */
  readonly name?: string;
  readonly token: string;
}

/** auth.agent_tokens_file, parsed: each token with the name it speaks for, if any. */
export interface AgentTokens {
  /** Where they were read from, for the warning about bare lines. */
  readonly file: string;
  readonly lines: readonly AgentTokenLine[];
}

/**
 * Parses `NAME TOKEN` lines (and bare `TOKEN` lines, the first format). A name twice, or one token
 * under two names, is refused: either would let one token speak for more than one app server.
 * Problems name the line, never the token. No line at all is allowed: a controller is installed
 * before its app servers, whose lines are read when added (watchAgentTokens).
 */
export function parseAgentTokens(text: string): { lines: AgentTokenLine[]; problems: string[] } {
  const lines: AgentTokenLine[] = [];
  const problems: string[] = [];
  const names = new Map<string, number>();
  const tokens = new Map<string, number>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const fields = raw.trim().split(/\s+/);
    const line = i + 1;
    if (fields[0] === '' || fields[0]?.startsWith('#')) continue;
    if (fields.length > 2) {
      problems.push(`line ${line}: expected "NAME TOKEN", found ${fields.length} fields`);
      continue;
    }
    const [name, token] = fields.length === 2 ? (fields as [string, string]) : [undefined, fields[0] as string];
    if (name !== undefined && !AGENT_NAME.test(name)) {
      problems.push(`line ${line}: agent name "${name.slice(0, 40)}": letters, digits, ".", "_" and "-" only, 128 chars at most`);
      continue;
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      problems.push(`line ${line}: a token needs at least ${MIN_TOKEN_LENGTH} characters (this one has ${token.length})`);
      continue;
    }
    const sameName = name === undefined ? undefined : names.get(name);
    const sameToken = tokens.get(token);
    if (sameName !== undefined) {
      problems.push(`line ${line}: agent ${name} already has a token on line ${sameName}`);
    } else if (sameToken !== undefined) {
      problems.push(`line ${line}: the same token as line ${sameToken}: each token speaks for one agent`);
    } else {
      if (name !== undefined) names.set(name, line);
      tokens.set(token, line);
      lines.push({ line, token, ...(name !== undefined ? { name } : {}) });
    }
  }
  return { lines, problems };
}

/** Reads auth.agent_tokens_file; problems start with the file's name. */
export async function readAgentTokens(file: string): Promise<{ tokens: AgentTokens; problems: string[] }> {
  const text = await readOrProblem(file);
  if (typeof text !== 'string') return { tokens: { file, lines: [] }, problems: [text.problem] };
  const parsed = parseAgentTokens(text);
  return { tokens: { file, lines: parsed.lines }, problems: parsed.problems.map((p) => `${file} ${p}`) };
}

/** What an operator must hear about the agent tokens, at start and on each change: bare lines, no line. */
export function tokenWarnings(tokens: AgentTokens): string[] {
  if (tokens.lines.length === 0) {
    return [`${tokens.file} holds no agent token yet: no agent can poll until its "NAME TOKEN" line is added (read on change)`];
  }
  const bare = tokens.lines.filter((l) => l.name === undefined);
  if (bare.length === 0) return [];
  return [
    `${tokens.file}: ${bare.length} token line(s) without an agent name (line ${bare.map((l) => l.line).join(', ')}): `
    + 'such a token may report under any name no other line holds, and its agents show as unbound and never veto a '
    + `failover; give each agent its own "NAME TOKEN" line: pullover-controller convert-tokens --file ${tokens.file} --names NAME,...`,
  ];
}

/**
 * Calls `changed` with the file's tokens each time it changes, so that a new app server's line
 * is taken without restarting the controller. Polled (a stat a second), not watched: editors and
 * convert-tokens replace the file by a rename, which an inotify watch on the old inode misses.
 */
export function watchAgentTokens(
  file: string,
  changed: (read: { tokens: AgentTokens; problems: string[] }) => void,
  intervalMs = 1000,
): () => void {
  const listener = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
    void readAgentTokens(file).then(changed);
  };
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}

async function readOrProblem(file: string): Promise<string | { problem: string }> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    return { problem: `cannot read ${file}: ${describeCause(error)}` };
  }
}
