// One nemesis run: a fresh controller and agents on the reset cluster, two writers through the
// hostname, the read_only sampler, the schedule's faults at their moments, every fault healed,
// time to converge, then the final state. Returns the recorded history; judging it is the checker's.
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReadOnlySampler } from '@pullover/sandbox';
import { Rig } from '../failover-rig.mjs';
import { Faults } from './faults.mjs';
import { converge, finalState } from './final-state.mjs';

const CONVERGE_MS = 60_000;
// The second writer's ids: far from the first's, never the same row.
const SECOND_WRITER_FIRST_ID = 1_000_000_001;

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Runs `schedule` on `cluster`. Returns { history, faults: the fault log with times since the first
 * step, unsettled: what had not converged, if anything }. `logsDir(history)` (history undefined when
 * the run failed) names a dir to save the logs and the history in before they are removed, or not.
 */
export async function runSchedule(cluster, schedule, { logsDir = () => undefined } = {}) {
  await cluster.reset();
  const rig = await Rig.start(cluster, { clusterYaml: [`rejoin: ${schedule.rejoin}`, `restart_recovery: ${schedule.restartRecovery}`] });
  const faults = new Faults(cluster, rig);
  const sampler = new ReadOnlySampler(cluster.servers).start();
  let history;
  try {
    const writers = [rig.startWriter({ at: 0 }), rig.startWriter({ at: 1, firstId: SECOND_WRITER_FIRST_ID })];
    await rig.ready();
    await sleep(schedule.leadMs);
    const begin = Date.now();
    let masterFaultAt;
    await Promise.all(schedule.steps.map(async (step) => {
      await sleep(begin + step.at - Date.now());
      if (step.losesMaster) masterFaultAt = Date.now();
      await faults.schedule(step.action);
    }));
    const unsettled = await converge(rig, cluster, CONVERGE_MS);
    // Writes on the settled topology: the new master must take them too.
    await sleep(1000);
    await Promise.all(writers.map((w) => w.stop()));
    await sampler.stop();
    history = {
      restartRecovery: schedule.restartRecovery,
      servers: cluster.servers.map((s) => ({ name: s.name, serverId: s.serverId, address: s.address })),
      initialMaster: cluster.master.name,
      masterFaultAt,
      writes: writers.flatMap((w, i) => w.attempts.map((a) => ({ ...a, writer: `w${i + 1}` }))),
      samples: sampler.samples,
      final: await finalState(rig, cluster),
    };
    return { history, faults: faults.log.map((f) => ({ ...f, at: f.at - begin })), unsettled };
  } finally {
    await sampler.stop();
    await faults.healAll();
    const dir = logsDir(history);
    if (dir) await saveLogs(rig, cluster, dir, history);
    await rig.stop();
  }
}

async function saveLogs(rig, cluster, dir, history) {
  await mkdir(dir, { recursive: true });
  await cp(rig.dir, join(dir, 'rig'), { recursive: true, filter: (src) => !src.includes('/state') || src.endsWith('.json') });
  for (const s of cluster.servers) await cp(s.logFile, join(dir, `${s.name}.error.log`)).catch(() => undefined);
  if (history) await writeFile(join(dir, 'history.json'), JSON.stringify(history));
}
