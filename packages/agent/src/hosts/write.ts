// Reading and replacing the hosts file. The replace is protocol's writeFileAtomic, blocking (an
// agent has nothing else to do meanwhile) and allowed to rewrite in place: Docker bind-mounts
// /etc/hosts, which rename cannot replace, and a stale address there is worse than a non-atomic write.
import { readFileSync } from 'node:fs';
import { TextDecoder } from 'node:util';
import {
  AtomicWriteError,
  type AtomicWriteResult,
  describeErrno,
  errnoOf,
  writeFileAtomic,
} from '@pullover/protocol';
import { HostsFileError } from '../errors.js';

export type WriteResult = AtomicWriteResult;

export async function readHostsFile(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const message = `cannot read ${path}: ${describeErrno(error)}`;
    throw new HostsFileError('HOSTS_READ_FAILED', path, message, errnoOf(error), { cause: error });
  }
  try {
    // Fatal: a lenient decode would turn stray Latin-1 bytes into U+FFFD and write them back changed.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    const message = `cannot read ${path}: it is not valid UTF-8, and rewriting it would alter bytes outside the managed block; fix its encoding`;
    throw new HostsFileError('HOSTS_READ_FAILED', path, message, undefined, { cause: error });
  }
}

export async function writeHostsFile(path: string, content: string): Promise<WriteResult> {
  try {
    return await writeFileAtomic(path, content, { mode: 0o644, inPlace: true, blocking: true });
  } catch (error) {
    if (!(error instanceof AtomicWriteError)) throw error;
    throw new HostsFileError('HOSTS_WRITE_FAILED', path, error.message, error.errno, { cause: error });
  }
}
