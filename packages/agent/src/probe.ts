import { connect } from 'node:net';

export interface ProbeResult {
  reachable: boolean;
  detail: string;
}

/**
 * Can this app server reach mysqld at address:port right now? Reads the server's first packet
 * without credentials: a protocol-10 handshake or an error packet both prove mysqld is alive,
 * while a bare TCP accept only proves the kernel is (a hung mysqld still completes the handshake).
 */
export function probeGreeting(address: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    let buffered = Buffer.alloc(0);
    const finish = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish({
          reachable: false,
          detail: socket.connecting
            ? `connect timed out after ${timeoutMs} ms`
            : `no greeting within ${timeoutMs} ms`,
        }),
      timeoutMs,
    );
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish({ reachable: false, detail: `connect ${error.code ?? error.message}` }),
    );
    socket.on('close', () => finish({ reachable: false, detail: 'closed before a greeting' }));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const verdict = readGreeting(buffered);
      if (verdict) finish(verdict);
    });
  });
}

/** Classifies the first packet once enough of it has arrived; undefined while more is needed. */
export function readGreeting(data: Buffer): ProbeResult | undefined {
  if (data.length < 5) return undefined;
  const length = data.readUIntLE(0, 3);
  const payload = data.subarray(4, 4 + length);
  const kind = payload[0];
  if (kind === 0x0a) {
    const end = payload.indexOf(0, 1);
    if (end < 0 && payload.length < length) return undefined;
    const version = payload.subarray(1, end < 0 ? payload.length : end).toString('latin1');
    return { reachable: true, detail: `greeting from ${printable(version)}` };
  }
  if (kind === 0xff) {
    if (payload.length < Math.min(length, 3)) return undefined;
    const code = payload.length >= 3 ? payload.readUInt16LE(1) : 0;
    const message = payload.subarray(3).toString('utf8');
    return { reachable: true, detail: `mysqld answered with error ${code}: ${printable(message)}` };
  }
  return { reachable: false, detail: 'the peer is not a MySQL server (unexpected first packet)' };
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
}
