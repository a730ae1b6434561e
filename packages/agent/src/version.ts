import { createRequire } from 'node:module';

/**
 * This agent's version, sent with every report: the one in its package.json, which src/ and dist/
 * both sit next to. The single-file agent has no package.json beside it: scripts/bundle.mjs
 * replaces this module with the version it read at build time.
 */
export const AGENT_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;
