// The system calls of a file write, blocking or on the thread pool: one algorithm (atomic-write.ts)
// runs on either.
import {
  close,
  closeSync,
  fchmod,
  fchmodSync,
  fchown,
  fchownSync,
  fsync,
  fsyncSync,
  ftruncate,
  ftruncateSync,
  lstatSync,
  open,
  openSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { lstat, realpath, rename, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';

export type Maybe<T> = T | Promise<T>;

export interface SystemCalls {
  lstat(path: string): Maybe<Stats>;
  stat(path: string): Maybe<Stats>;
  realpath(path: string): Maybe<string>;
  open(path: string, flags: string, mode?: number): Maybe<number>;
  write(fd: number, data: Buffer, offset: number, length: number, position: number): Maybe<number>;
  fchown(fd: number, uid: number, gid: number): Maybe<void>;
  fchmod(fd: number, mode: number): Maybe<void>;
  ftruncate(fd: number, length: number): Maybe<void>;
  fsync(fd: number): Maybe<void>;
  close(fd: number): Maybe<void>;
  rename(from: string, to: string): Maybe<void>;
  unlink(path: string): Maybe<void>;
}

export const BLOCKING: SystemCalls = {
  lstat: (path) => lstatSync(path),
  stat: (path) => statSync(path),
  realpath: (path) => realpathSync.native(path),
  open: (path, flags, mode) => openSync(path, flags, mode),
  write: (fd, data, offset, length, position) => writeSync(fd, data, offset, length, position),
  fchown: fchownSync,
  fchmod: fchmodSync,
  ftruncate: ftruncateSync,
  fsync: fsyncSync,
  close: closeSync,
  rename: renameSync,
  unlink: unlinkSync,
};

export const THREAD_POOL: SystemCalls = {
  lstat: (path) => lstat(path),
  stat: (path) => stat(path),
  // fs/promises' realpath is realpath(3), like realpathSync.native.
  realpath: (path) => realpath(path),
  open: (path, flags, mode) => promisify(open)(path, flags, mode),
  write: (fd, data, offset, length, position) =>
    new Promise((resolve, reject) => {
      write(fd, data, offset, length, position, (error, written) => (error ? reject(error) : resolve(written)));
    }),
  fchown: promisify(fchown),
  fchmod: promisify(fchmod),
  ftruncate: promisify(ftruncate),
  fsync: promisify(fsync),
  close: promisify(close),
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
};
