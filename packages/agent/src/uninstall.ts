// `pullover-agent uninstall`: the hosts file goes back to the operator's own lines, and nothing the
// agent wrote is left behind. The hosts file first: if its write fails, the state still tells a
// restarted agent what it had applied.
import { realpathSync } from 'node:fs';
import { removeStrayTemps } from '@pullover/protocol';
import type { AgentConfig } from './config.js';
import { planUninstall, type UninstallPlan } from './hosts/block.js';
import { readHostsFile, type WriteResult, writeHostsFile } from './hosts/write.js';
import { StateFile } from './state.js';

export interface UninstallOutcome {
  plan: UninstallPlan;
  /** Absent when the file had nothing of ours and was not rewritten. */
  write?: WriteResult;
  /** The state file and stray temp files deleted. */
  removed: string[];
  /** One line for the operator: what was done. */
  sentence: string;
}

export async function uninstallAgent(config: AgentConfig): Promise<UninstallOutcome> {
  const file = config.hosts_file;
  const plan = planUninstall(await readHostsFile(file));
  const write = plan.changed ? await writeHostsFile(file, plan.content) : undefined;
  // A killed writer leaves its temp file next to the file it replaces, through a symlink the target.
  const removed = [...removeStrayTemps(realTarget(file)), ...(await new StateFile(config.state_dir).remove())];
  return {
    plan,
    ...(write ? { write } : {}),
    removed,
    sentence: describeUninstall(config, plan, write, removed),
  };
}

function realTarget(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function describeUninstall(
  config: AgentConfig,
  plan: UninstallPlan,
  write: WriteResult | undefined,
  removed: readonly string[],
): string {
  const file = config.hosts_file;
  const lines = count(plan.restored, 'commented-out line');
  let hosts: string;
  if (plan.hadBlock) {
    hosts = `removed the pullover block (${count(plan.entries, 'entry', 'entries')}) from ${file}, restored ${lines}`;
  } else if (plan.changed) {
    hosts = `no complete pullover block in ${file}; restored ${lines}, dropped any stray pullover marker`;
  } else {
    hosts = `no pullover block in ${file}, nothing to restore`;
  }
  if (write?.method === 'in-place') hosts += ` (${write.reason ?? 'rewritten in place'})`;
  const state = removed.length > 0 ? `deleted ${removed.join(', ')}` : `no agent state in ${config.state_dir}`;
  return `${hosts}; ${state}`;
}
