import { basename, dirname, resolve } from 'node:path';
import { watch } from 'chokidar';

const SETTLE_MS = 50;

export interface HostsWatcher {
  close(): Promise<void>;
}

/**
 * Calls `onChange` shortly after anything touches the hosts file. The directory is watched, not
 * the file: editors, config management and our own rename replace the inode, and a watch on the
 * old inode would go deaf after the first such replacement.
 */
export async function watchHostsFile(path: string, onChange: () => void): Promise<HostsWatcher> {
  const target = resolve(path);
  const name = basename(target);
  const watcher = watch(dirname(target), {
    depth: 0,
    ignoreInitial: true,
    atomic: false,
    ignored: (candidate: string) => candidate !== dirname(target) && basename(candidate) !== name,
  });
  let timer: NodeJS.Timeout | undefined;
  watcher.on('all', (_event, changed) => {
    if (resolve(changed) !== target) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, SETTLE_MS);
  });
  await new Promise<void>((ready, fail) => {
    watcher.once('ready', ready);
    watcher.once('error', fail);
  });
  return {
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
