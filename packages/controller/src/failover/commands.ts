import { spawn } from 'node:child_process';

// The operator's own commands: fence_command, before/after hooks, an MHA master_ip_failover_script.
// Each runs under /bin/sh with the failover's details as PULLOVER_* variables and as JSON on stdin,
// and is killed (its whole process group) when it overruns: a hung hook must not hang a failover.

export interface CommandResult {
  readonly command: string;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly ms: number;
  /** The last lines of its output, for the log. */
  readonly output: string;
}

export interface FailoverDetails {
  readonly cluster: string;
  readonly event: 'fence' | 'before' | 'after';
  readonly old_master: { readonly name: string; readonly address: string; readonly port: number };
  readonly new_master: { readonly name: string; readonly address: string; readonly port: number } | null;
  readonly hostnames: readonly string[];
  readonly failover_id: string;
  readonly reason: string;
}

export function detailsEnv(d: FailoverDetails): Record<string, string> {
  return {
    PULLOVER_EVENT: d.event,
    PULLOVER_CLUSTER: d.cluster,
    PULLOVER_FAILOVER_ID: d.failover_id,
    PULLOVER_OLD_MASTER: d.old_master.name,
    PULLOVER_OLD_MASTER_ADDRESS: d.old_master.address,
    PULLOVER_NEW_MASTER: d.new_master?.name ?? '',
    PULLOVER_NEW_MASTER_ADDRESS: d.new_master?.address ?? '',
    PULLOVER_PORT: String(d.old_master.port),
    PULLOVER_HOSTNAMES: d.hostnames.join(' '),
    PULLOVER_REASON: d.reason,
  };
}

/** MHA's arguments to master_ip_failover_script: `stop` before promotion, `start` after it. */
export function mhaArguments(phase: 'stop' | 'start', d: FailoverDetails): string[] {
  const old = [
    `--orig_master_host=${d.old_master.name}`,
    `--orig_master_ip=${d.old_master.address}`,
    `--orig_master_port=${d.old_master.port}`,
  ];
  if (phase === 'stop' || !d.new_master) return ['--command=stop', '--ssh_user=root', ...old];
  return [
    '--command=start',
    '--ssh_user=root',
    ...old,
    `--new_master_host=${d.new_master.name}`,
    `--new_master_ip=${d.new_master.address}`,
    `--new_master_port=${d.new_master.port}`,
  ];
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function runCommand(
  command: string,
  details: FailoverDetails,
  timeoutMs: number,
  args: readonly string[] = [],
): Promise<CommandResult> {
  const line = args.length > 0 ? `${shellQuote(command)} ${args.map(shellQuote).join(' ')}` : command;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', line], {
      env: { ...process.env, ...detailsEnv(details) },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.stdin.on('error', () => {}); // a command that never reads stdin closes it early
    child.stdin.end(`${JSON.stringify(details)}\n`);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    const done = (code: number | null) => {
      clearTimeout(timer);
      resolve({
        command: line,
        code,
        timedOut,
        ms: Math.round(performance.now() - started),
        output: output.trim().split('\n').slice(-5).join(' | '),
      });
    };
    child.once('error', () => done(null));
    child.once('close', (code) => done(code));
  });
}

/** "fence_command exited 0 in 120 ms" / "… was killed after 30000 ms" — for step details and logs. */
export function describeResult(what: string, r: CommandResult): string {
  const outcome = r.timedOut ? `was killed after ${r.ms} ms` : r.code === 0 ? `exited 0 in ${r.ms} ms` : `failed (exit ${r.code ?? 'signal'}) in ${r.ms} ms`;
  return `${what} ${outcome}${r.output && r.code !== 0 ? `: ${r.output}` : ''}`;
}
