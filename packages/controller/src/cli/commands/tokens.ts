// convert-tokens: the agent tokens file of the first format (bare tokens) to NAME TOKEN lines.
import { ConfigError, describeCause, UsageError } from '../../errors.js';
import { local } from '../spec.js';

export const CONVERT_TOKENS = local({
  summary: 'rewrite an agent tokens file of bare tokens (the first format) to one "NAME TOKEN" line per agent, '
    + 'so that each token speaks for its own agent only',
  options: {
    'file': {
      type: 'string',
      arg: 'FILE',
      required: true,
      help: 'auth.agent_tokens_file, rewritten in place (atomically, its mode kept); a running controller reads it within a second',
    },
    'names': {
      type: 'string',
      arg: 'NAME,...',
      required: true,
      example: 'app1,app2,app3',
      help: 'the agents (their agent.yaml name); without --out-dir, one per bare line, in the order of the lines: '
        + 'each keeps its token, so nothing changes on the app servers',
    },
    'out-dir': {
      type: 'string',
      arg: 'DIR',
      help: 'the agents shared a token: make a new one for each name, in DIR/NAME.token (never over a file), to copy to '
        + 'that app server\'s token_file; the bare lines stay until you delete them, so no agent is cut off meanwhile',
    },
  },
  examples: [
    'convert-tokens --file /etc/pullover/agent-tokens --names app1,app2,app3',
    'convert-tokens --file /etc/pullover/agent-tokens --names app1,app2,app3 --out-dir /root/pullover-agent-tokens',
  ],
  build: (values) => ({
    file: values.file,
    names: values.names.split(',').map((name) => name.trim()).filter((name) => name !== ''),
    outDir: values['out-dir'],
  }),
  run: async ({ file, names, outDir }, io) => {
    const { randomBytes } = await import('node:crypto');
    const { mkdir, readFile, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { writeFileAtomic } = await import('@pullover/protocol');
    const { convertTokens } = await import('../../config/convert-tokens.js');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError([`${file}: cannot read the agent tokens: ${describeCause(error)}`]);
    }
    const mint = outDir === undefined ? undefined : () => randomBytes(24).toString('base64url');
    const result = convertTokens(text, names, mint);
    // The new tokens first: if one cannot be written, the tokens file is still as it was.
    if (outDir !== undefined) {
      await mkdir(outDir, { recursive: true, mode: 0o700 });
      for (const [name, token] of result.minted) {
        const path = join(outDir, `${name}.token`);
        try {
          await writeFile(path, `${token}\n`, { flag: 'wx', mode: 0o600 });
        } catch (error) {
          throw new UsageError(`${path}: ${describeCause(error)}; ${file} is unchanged`);
        }
      }
    }
    await writeFileAtomic(file, result.text, { mode: 0o600 });
    for (const line of result.said) io.out(`${file}: ${line}`);
    if (outDir !== undefined) {
      io.out(`next: copy ${join(outDir, 'NAME.token')} to each app server's token_file and restart its agent; `
        + `once status shows no agent unbound, delete the marked bare lines from ${file}`);
    }
    return 0;
  },
});
