import { ConfigError, describeCause, UsageError } from '../errors.js';
import { type Command, parseCommand, type TargetFlags } from './args.js';
import { AdminClient } from './client.js';
import { followEvents } from './follow.js';
import { formatFailover, formatHistory, formatSwitchover } from './history-table.js';
import { formatEvent, withProgress } from './progress.js';
import { formatStatus } from './status-table.js';
import { resolveTarget } from './target.js';
import { USAGE } from './usage.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const STDIO: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Runs one command line; resolves with the exit code: 0 ok, 1 the operation failed, 2 bad usage or config. */
export async function main(argv: readonly string[], io: Output = STDIO): Promise<number> {
  try {
    return await execute(parseCommand(argv), io);
  } catch (error) {
    // One clear line (one per problem for a config) and no stack trace: the reader is an operator.
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 2;
    }
    if (error instanceof UsageError) {
      io.err(`pullover-controller: ${error.message} (see pullover-controller --help)`);
      return 2;
    }
    io.err(`pullover-controller: ${describeCause(error)}`);
    return 1;
  }
}

async function execute(command: Command, io: Output): Promise<number> {
  switch (command.kind) {
    case 'help':
      io.out(USAGE);
      return 0;
    case 'run':
      return run(command.config, command.logLevel, io);
    case 'check':
      return check(command.config, io);
    case 'status':
      return withClient(command.target, async (client) => {
        const status = await client.status();
        io.out(command.json ? JSON.stringify(status, null, 2) : formatStatus(status));
        return 0;
      });
    case 'set-master':
      return withClient(command.target, async (client) => {
        const r = await client.setMaster(command.cluster, {
          server: command.server,
          ...(command.reason !== undefined ? { reason: command.reason } : {}),
        });
        io.out(
          r.changed
            ? `${r.cluster}: master ${r.previous_master} → ${r.master}, version ${r.version}`
            : `${r.cluster}: ${r.master} is already the master, version ${r.version} unchanged`,
        );
        return 0;
      });
    case 'failover':
      return withClient(command.target, async (client) => {
        io.err(`${command.cluster}: failing over${command.to ? ` onto ${command.to}` : ''}; this takes a few seconds…`);
        const record = await withProgress(client, command.cluster, io.err, () =>
          client.failover(command.cluster, {
            ...(command.to !== undefined ? { to: command.to } : {}),
            ...(command.reason !== undefined ? { reason: command.reason } : {}),
            ...(command.force ? { force: true } : {}),
          }),
        );
        io.out(formatFailover(record));
        return record.outcome === 'done' ? 0 : 1;
      });
    case 'set-writable':
      return withClient(command.target, async (client) => {
        const r = await client.setWritable(command.cluster);
        const said = { 'writable': 'made writable', 'already-writable': 'already writable', 'refused': 'REFUSED' }[r.outcome];
        io.out(`${r.cluster}: ${r.master} ${said}: ${r.checks.join('; ')}`);
        return r.outcome === 'refused' ? 1 : 0;
      });
    case 'ack':
      return withClient(command.target, async (client) => {
        const r = await client.ack(command.cluster);
        io.out(rearmed(r.cluster, 'block', r.was_blocked_until));
        return 0;
      });
    case 'pause':
      return withClient(command.target, async (client) => {
        const r = await client.pause(command.cluster, command.forS, command.reason);
        io.out(`${r.cluster}: automatic failover paused until ${r.paused_until}; pullover-controller resume --cluster ${r.cluster} ends it sooner`);
        return 0;
      });
    case 'resume':
      return withClient(command.target, async (client) => {
        const r = await client.resume(command.cluster);
        io.out(rearmed(r.cluster, 'pause', r.was_paused_until));
        return 0;
      });
    case 'switchover':
      return withClient(command.target, async (client) => {
        const what = command.request.dry_run ? 'checking a switchover' : 'switching over; writes are blocked for a moment';
        io.err(`${command.cluster}: ${what}…`);
        const r = await withProgress(client, command.cluster, io.err, () =>
          client.switchover(command.cluster, command.request),
        );
        io.out(formatSwitchover(r));
        return r.outcome === 'rolled-back' ? 1 : 0;
      });
    case 'rejoin':
      return withClient(command.target, async (client) => {
        const r = await client.rejoin(command.cluster, command.server);
        io.out(`${r.cluster}: ${r.outcome === 'rejoined' ? 'rejoined' : 'REFUSED'}: ${r.detail}`);
        return r.outcome === 'rejoined' ? 0 : 1;
      });
    case 'history':
      return withClient(command.target, async (client) => {
        const history = await client.history();
        io.out(command.json ? JSON.stringify(history, null, 2) : formatHistory(history));
        return 0;
      });
    case 'events':
      return withClient(command.target, (client) => printEvents(client, command, io));
    case 'import-mha':
      return importMhaFiles(command, io);
  }
}

/** What ack and resume did: `was` is when the block or pause would have ended, null when there was none. */
function rearmed(cluster: string, what: 'block' | 'pause', was: string | null): string {
  return was
    ? `${cluster}: automatic failover armed again (the ${what} would have lasted until ${was})`
    : `${cluster}: automatic failover was not ${what === 'block' ? 'blocked' : 'paused'}`;
}

/** The YAML on stdout or in --out (never over an existing file), one note per line on stderr. */
async function importMhaFiles(command: Extract<Command, { kind: 'import-mha' }>, io: Output): Promise<number> {
  const { readFile, writeFile } = await import('node:fs/promises');
  const { importMha } = await import('../migrate/mha.js');
  const { parseConfigText } = await import('../config/load.js');
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
}

/** The events; with --follow, until Ctrl-C or SIGTERM: how an operator stops following, so exit 0, not a failure. */
async function printEvents(
  client: AdminClient,
  command: Extract<Command, { kind: 'events' }>,
  io: Output,
): Promise<number> {
  const stop = new AbortController();
  const interrupted = () => stop.abort();
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await followEvents(client, {
      cluster: command.cluster,
      follow: command.follow,
      signal: stop.signal,
      print: (event) => io.out(command.json ? JSON.stringify(event) : formatEvent(event, true)),
      note: io.err,
    });
    return 0;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}

async function withClient(
  flags: TargetFlags,
  use: (client: AdminClient) => Promise<number>,
): Promise<number> {
  const client = new AdminClient(await resolveTarget(flags));
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** Exit 0 only when a failover would work in every cluster. Progress on stderr, findings on stdout. */
async function check(file: string, io: Output): Promise<number> {
  const { loadConfig } = await import('../config/load.js');
  const { FileStore } = await import('../state/file-store.js');
  const { gatherCluster } = await import('../check/gather.js');
  const { checkCluster, failed, formatFinding, progress, verdict } = await import('../check/findings.js');
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
}

async function run(file: string, level: string, io: Output): Promise<number> {
  // Loaded here only: the admin commands stay quick without fastify and the server stack.
  const { loadConfig } = await import('../config/load.js');
  const { startController } = await import('../controller.js');
  const config = await loadConfig(file);
  const controller = await startController(config, { logger: { level } });
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
}
