// convert-tokens: an agent tokens file of bare lines (the first format) → NAME TOKEN lines.
//
// Two cases, told apart by the operator's --out-dir, never guessed:
// - each app server had its own token: the bare lines get the names in order, tokens kept, so no
//   app server changes anything (the operator lists the names in the order of the lines);
// - the fleet shared a token (the first demo's way): each name gets a new token, written for the
//   operator to copy to that app server; the bare lines stay, marked, so that no agent is cut off
//   before its new token is in place, and are deleted by hand once every agent has switched.
import { UsageError } from '../errors.js';
import { AGENT_NAME, type AgentTokenLine, parseAgentTokens } from './tokens.js';

export interface Conversion {
  /** The file's new text. */
  readonly text: string;
  /** What was done, one line each, for the operator; never a token. */
  readonly said: readonly string[];
  /** With minting: each name's new token, for its app server. */
  readonly minted: ReadonlyMap<string, string>;
}

/** The comment put above each bare line left for the switch-over to new tokens. */
export const KEEP_UNTIL_SWITCHED = '# unbound: delete once every agent uses its own token (convert-tokens)';

/**
 * Rewrites `text` (already free of problems) for `names`. `mint` makes a new token, or is absent
 * when the bare lines are to be bound in order. Throws UsageError naming what does not fit.
 */
export function convertTokens(text: string, names: readonly string[], mint?: () => string): Conversion {
  const { lines, problems } = parseAgentTokens(text);
  if (problems.length > 0) throw new UsageError(`the file is refused as it is: ${problems.join('; ')}`);
  checkNames(names, lines);
  const bare = lines.filter((l) => l.name === undefined);
  if (bare.length === 0 && !mint) throw new UsageError('the file has no bare-token line: nothing to convert');
  const rows = text.split(/(?<=\n)/);
  if (!mint) {
    if (names.length !== bare.length) {
      throw new UsageError(
        `the file has ${bare.length} bare-token line(s) and --names gives ${names.length} name(s): name each line in `
        + 'order, or, if the agents share a token, give --out-dir DIR to make a new token for each name',
      );
    }
    const said = bare.map((line, i) => {
      const name = names[i] as string;
      rows[line.line - 1] = `${name} ${line.token}${rows[line.line - 1]?.endsWith('\n') ? '\n' : ''}`;
      return `line ${line.line}: ${name}, its token kept (nothing to change on that app server)`;
    });
    return { text: rows.join(''), said, minted: new Map() };
  }
  const minted = new Map(names.map((name) => [name, mint()]));
  for (const line of bare) rows[line.line - 1] = `${KEEP_UNTIL_SWITCHED}\n${rows[line.line - 1]}`;
  const body = rows.join('');
  const added = [...minted].map(([name, token]) => `${name} ${token}\n`).join('');
  const said = [
    ...names.map((name) => `${name}: a new token`),
    ...(bare.length > 0 ? [`line(s) ${bare.map((l) => l.line).join(', ')} kept (unbound) until every agent has its own token`] : []),
  ];
  return { text: `${body}${body === '' || body.endsWith('\n') ? '' : '\n'}${added}`, said, minted };
}

function checkNames(names: readonly string[], lines: readonly AgentTokenLine[]): void {
  if (names.length === 0) throw new UsageError('--names needs at least one agent name');
  const seen = new Set<string>();
  for (const name of names) {
    if (!AGENT_NAME.test(name)) throw new UsageError(`--names: "${name}": letters, digits, ".", "_" and "-" only`);
    if (seen.has(name)) throw new UsageError(`--names: ${name} is given twice`);
    seen.add(name);
    const bound = lines.find((l) => l.name === name);
    if (bound) throw new UsageError(`--names: ${name} already has a token, on line ${bound.line}`);
  }
}
