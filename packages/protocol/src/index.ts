export * from './admin.js';
export * from './failover.js';
export * from './mapping.js';
export * from './names.js';
export * from './report.js';
export * from './status.js';
export * from './switchover.js';
export * from './tokens.js';

/** The managed block's markers in a hosts file. Part of the contract: agents of every version find them. */
export const BLOCK_BEGIN =
  '# BEGIN pullover — managed by pullover-agent, edits inside this block are overwritten';
export const BLOCK_END = '# END pullover';
export * from './config-file.js';
export * from './duration.js';
export * from './events.js';
export * from './issues.js';
export * from './atomic-write.js';
