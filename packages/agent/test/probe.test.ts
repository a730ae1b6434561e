import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeGreeting, readGreeting } from '../src/probe.js';

function packet(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}
const greeting = packet(
  Buffer.concat([Buffer.from([0x0a]), Buffer.from('10.11.6-MariaDB-0+deb12u1\0'), Buffer.alloc(40)]),
);
const tooMany = packet(Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('Too many connections')]));

describe('readGreeting', () => {
  it.each([
    ['a MariaDB handshake', greeting, { reachable: true, detail: 'greeting from 10.11.6-MariaDB-0+deb12u1' }],
    [
      'an error packet (mysqld is alive, refusing)',
      tooMany,
      { reachable: true, detail: 'mysqld answered with error 1040: Too many connections' },
    ],
    [
      'an HTTP server',
      Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'),
      { reachable: false, detail: 'the peer is not a MySQL server (unexpected first packet)' },
    ],
    ['too few bytes yet', greeting.subarray(0, 4), undefined],
    ['a handshake cut inside the version', greeting.subarray(0, 9), undefined],
  ])('%s', (_name, data, expected) => {
    expect(readGreeting(data)).toEqual(expected);
  });
});

describe('probeGreeting against real sockets', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

  async function listen(onConnection: (socket: import('node:net').Socket) => void): Promise<number> {
    const listening = createServer(onConnection);
    server = listening;
    await new Promise<void>((done) => listening.listen(0, '127.0.0.1', done));
    return (listening.address() as { port: number }).port;
  }

  it('reads a greeting sent in two pieces', async () => {
    const port = await listen((socket) => {
      socket.write(greeting.subarray(0, 7));
      setTimeout(() => socket.end(greeting.subarray(7)), 20);
    });
    expect(await probeGreeting('127.0.0.1', port, 1000)).toEqual({
      reachable: true,
      detail: 'greeting from 10.11.6-MariaDB-0+deb12u1',
    });
  });

  it('an accept without a greeting (a hung mysqld) is not reachable', async () => {
    const port = await listen(() => undefined);
    expect(await probeGreeting('127.0.0.1', port, 200)).toEqual({
      reachable: false,
      detail: 'no greeting within 200 ms',
    });
  });

  it('a refused connection is not reachable', async () => {
    const port = await listen(() => undefined);
    await new Promise<void>((done) => server?.close(() => done()));
    server = undefined;
    expect(await probeGreeting('127.0.0.1', port, 1000)).toEqual({
      reachable: false,
      detail: 'connect ECONNREFUSED',
    });
  });
});
