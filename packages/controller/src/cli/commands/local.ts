// The commands that run on this host: the daemon, the pre-flight check, the MHA import.
import { setFlagsFromString } from 'node:v8';
import { isHostname, Name } from '@pullover/protocol';
import { ConfigError, describeCause, UsageError } from '../../errors.js';
import { local } from '../spec.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

const CONFIG = {
  config: { type: 'string', arg: 'FILE', required: true, help: 'the controller\'s config, e.g. /etc/pullover/controller.yaml' },
} as const;

/**
 * A publish answers every parked poll and the agents' acknowledgements park again: each parked
 * request lives until the next publish, so V8 has moved it to the old generation, and a publish to
 * 10,000 agents turns ~10,000 of them (~3 KB each) into garbage only a major collection frees. With
 * V8's default heap growth that collection came after the publish, and the controller's memory grew
 * by up to 46 MB during one; growing the heap by half of the live size instead of its default
 * factor starts it while the publish is going on: +6-33 MB, at no more CPU per publish
 * (bench:fanout, 9 runs each way). Set before the server holds anything.
 */
function tuneHeapForParkedPolls(): void {
  setFlagsFromString('--heap-growing-percent=50');
}

export const RUN = local({
  summary: 'monitor MySQL, fail over, serve the mapping (LEVEL: debug, info, warn, error)',
  options: {
    ...CONFIG,
    'log-level': { type: 'string', arg: 'LEVEL', help: `${LEVELS.join(', ')} (default info); JSON lines on stdout` },
  },
  examples: ['run --config /etc/pullover/controller.yaml'],
  build: (values) => {
    const logLevel = values['log-level'] ?? 'info';
    if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
    return { config: values.config, logLevel };
  },
  run: async ({ config: file, logLevel }, io) => {
    tuneHeapForParkedPolls();
    // Loaded here only: the admin commands stay quick without fastify and the server stack.
    const { loadConfig } = await import('../../config/load.js');
    const { startController } = await import('../../controller.js');
    const config = await loadConfig(file);
    const controller = await startController(config, { logger: { level: logLevel } });
    return new Promise((resolve) => {
      let closing = false;
      const stop = (signal: NodeJS.Signals) => {
        if (closing) {
          io.err(`pullover-controller: ${signal} again, exiting without waiting`);
          process.exit(1);
        }
        closing = true;
        controller.app.log.info(`${signal}: closing, parked polls answer 503`);
        controller.close().then(
          () => resolve(0),
          (error: unknown) => {
            io.err(`pullover-controller: closing failed: ${describeCause(error)}`);
            resolve(1);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  },
});

export const CHECK = local({
  summary: 'can a failover work now? connectivity, grants, replication, GTID, candidates',
  options: CONFIG,
  examples: ['check --config /etc/pullover/controller.yaml'],
  build: (values) => ({ config: values.config }),
  /** Exit 0 only when a failover would work in every cluster. Progress on stderr, findings on stdout. */
  run: async ({ config: file }, io) => {
    const { loadConfig } = await import('../../config/load.js');
    const { FileStore } = await import('../../state/file-store.js');
    const { gatherCluster } = await import('../../check/gather.js');
    const { checkCluster, failed, formatFinding, progress, verdict } = await import('../../check/findings.js');
    const config = await loadConfig(file);
    const state = await new FileStore(config.state_dir).load();
    let code = 0;
    for (const cluster of config.clusters) {
      const facts = await gatherCluster(config, cluster, state, (c, s) => io.err(progress(c, s)));
      const report = checkCluster(facts, new Date());
      for (const finding of report.findings) io.out(formatFinding(cluster.name, finding));
      io.out(verdict(report));
      if (failed(report)) code = 1;
    }
    return code;
  },
});

export const IMPORT_MHA = local({
  summary: 'MHA config (global file first) → controller.yaml; lists what has no equivalent',
  options: {
    out: { type: 'string', arg: 'FILE', help: 'write the YAML here (never over an existing file); default stdout' },
    cluster: { type: 'string', arg: 'NAME', help: 'the cluster\'s name (default myservice)' },
    hostname: {
      type: 'string',
      multiple: true,
      arg: 'NAME',
      help: 'a hostname the apps use for the master, once per name (default mysql-master.myservice.com)',
    },
  },
  positionals: { count: 'some', arg: 'FILE', what: 'MHA config' },
  examples: ['import-mha /usr/share/masterha/masterha_default.cnf /etc/masterha/app1.cnf --out /etc/pullover/controller.yaml'],
  build: (values, files) => {
    const cluster = values.cluster ?? 'myservice';
    if (!Name.safeParse(cluster).success) {
      throw new UsageError(`--cluster "${cluster}": letters, digits, ".", "_" and "-" only`);
    }
    const hostnames = values.hostname ?? ['mysql-master.myservice.com'];
    const bad = hostnames.find((h) => !isHostname(h));
    if (bad !== undefined) throw new UsageError(`--hostname "${bad}" is not an RFC 1123 hostname`);
    return { files, out: values.out, cluster, hostnames: hostnames.map((h) => h.toLowerCase()) };
  },
  /** The YAML on stdout or in --out (never over an existing file), one note per line on stderr. */
  run: async (command, io) => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const { importMha } = await import('../../migrate/mha.js');
    const { parseConfigText } = await import('../../config/load.js');
    const files = [];
    for (const file of command.files) {
      try {
        files.push({ file, text: await readFile(file, 'utf8') });
      } catch (error) {
        throw new ConfigError([`${file}: cannot read the MHA config: ${describeCause(error)}`]);
      }
    }
    const result = importMha(files, { cluster: command.cluster, hostnames: command.hostnames });
    // A YAML the controller would refuse is a bug here, not the operator's problem to find at start.
    try {
      parseConfigText(result.yaml, command.out ?? 'import-mha output');
    } catch (error) {
      throw new Error(`import-mha wrote a YAML the controller refuses (a bug): ${describeCause(error)}`);
    }
    if (command.out === undefined) {
      io.out(result.yaml.trimEnd());
    } else {
      try {
        await writeFile(command.out, result.yaml, { flag: 'wx' });
      } catch (error) {
        const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
        throw new UsageError(exists ? `${command.out} exists: not overwritten` : `${command.out}: ${describeCause(error)}`);
      }
    }
    for (const note of result.notes) io.err(note);
    if (command.out !== undefined) io.err(`pullover-controller: wrote ${command.out}; next: the notes above, then check`);
    return 0;
  },
});
