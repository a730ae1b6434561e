// A byte pipe between TCP and unix sockets: `node bridge.mjs LISTEN=>CONNECT …`, where each side
// is tcp:HOST:PORT or unix:PATH. Unix sockets live in the file system, which network namespaces
// share: that is how a process inside a namespace reaches only the servers we bridge for it.
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';

function parse(spec) {
  if (spec.startsWith('unix:')) return { path: spec.slice(5) };
  const [, host, port] = /^tcp:(.+):(\d+)$/.exec(spec) ?? [];
  if (!host) throw new Error(`bad endpoint ${spec}`);
  return { host, port: Number(port) };
}

for (const pair of process.argv.slice(2)) {
  const [from, to] = pair.split('=>').map(parse);
  if (from.path) rmSync(from.path, { force: true });
  const server = createServer((client) => {
    const upstream = createConnection(to);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  server.listen(from.path ? { path: from.path } : { host: from.host, port: from.port });
}
process.stdout.write('bridging\n');
