// Bearer-token files, read by the controller (every token) and by agents (their own one).

/** Shorter tokens can be guessed online; 16 characters of a random base64 string are 96 bits. */
export const MIN_TOKEN_LENGTH = 16;

export interface ParsedTokens {
  tokens: string[];
  /** "line 3: …" — never the token itself: problems end up in logs and terminals. */
  problems: string[];
}

/** A token file: one token per line; blank lines and `#` comments are ignored. */
export function parseTokens(text: string): ParsedTokens {
  const tokens: string[] = [];
  const problems: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/\s/.test(line)) {
      problems.push(`line ${i + 1}: a token cannot contain spaces`);
    } else if (line.length < MIN_TOKEN_LENGTH) {
      problems.push(
        `line ${i + 1}: a token needs at least ${MIN_TOKEN_LENGTH} characters (this one has ${line.length})`,
      );
    } else {
      tokens.push(line);
    }
  }
  if (tokens.length === 0 && problems.length === 0) problems.push('holds no token');
  return { tokens, problems };
}
