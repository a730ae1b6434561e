#!/usr/bin/env node
// What npm links as `pullover-controller`. A file of the repository, not of the build: npm links a
// workspace's bin at `npm ci` only if the file exists then, and dist/ is built after. Without it,
// `npx pullover-controller` in a fresh clone asks the public registry for a package of that name.
// The CLI itself is the bundle scripts/bundle.mjs writes (npm run build): it starts in a fraction
// of the time the module tree would take.
try {
  await import('../dist/bundle/pullover-controller.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('pullover-controller.js')) throw error;
  process.stderr.write('pullover-controller is not built: run `npm run build` in the repository first\n');
  process.exitCode = 2;
}
