import { createServer, type Server } from 'node:net';

/** A protocol-10 handshake as mysqld sends it first on every connection. */
export function greetingPacket(version: string): Buffer {
  const payload = Buffer.concat([
    Buffer.from([0x0a]),
    Buffer.from(`${version}\0`, 'latin1'),
    Buffer.alloc(40),
  ]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}

/** Greets and hangs up: enough for the agents' reachability probe, no SQL. */
export async function fakeMysqld(
  address: string,
  port: number,
  version = '10.11.6-MariaDB-fake',
): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(greetingPacket(version));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return server;
}
