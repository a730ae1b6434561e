#!/usr/bin/env node
// What npm links as `pullover-agent`. A file of the repository, not of the build: npm links a
// workspace's bin at `npm ci` only if the file exists then, and dist/ is built after. Without it,
// `npx pullover-agent` in a fresh clone asks the public registry for a package of that name.
try {
  await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('cli.js')) throw error;
  process.stderr.write('pullover-agent is not built: run `npm run build` in the repository first\n');
  process.exitCode = 2;
}
