import { readFile } from 'node:fs/promises';
import { type ParsedTokens, parseTokens } from '@pullover/protocol';
import { describeCause } from '../errors.js';

/** Reads a token file; the result's problems are prefixed with nothing, the caller adds the context. */
export async function readTokens(file: string): Promise<ParsedTokens> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { tokens: [], problems: [`cannot read ${file}: ${describeCause(error)}`] };
  }
  const parsed = parseTokens(text);
  return { tokens: parsed.tokens, problems: parsed.problems.map((p) => `${file} ${p}`) };
}
