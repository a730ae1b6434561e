// What both demos print (`npm run demo`, one controller; `npm run demo -- --ha`, three on etcd): the
// timeline of a master's death in ms since the kill, and the verdict on the failover that followed.
import { CLUSTER, HOSTNAME, managedBlock } from './failover-rig.mjs';

export const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
export const indent = (text) => text.replace(/^/gm, '  ');
export const n = (x) => x.toLocaleString('en-US');
export const clip = (text, width) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);
export const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
export const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** "mysql1 127.0.50.1 (master), …" and the port line. */
export function printMariadb(cluster, started) {
  const [mysql1, mysql2, mysql3] = cluster.servers;
  console.log(`MariaDB    mysql1 ${mysql1.address} (master), mysql2 ${mysql2.address} (candidate), mysql3 ${mysql3.address}`);
  console.log(`           port ${mysql1.port}, GTID replication, semi-sync; up in ${seconds(started)}`);
}

/** The writer's line and app1's hosts file. */
export async function printWriterAndHosts(rig) {
  console.log(`writer     INSERTs through ${HOSTNAME}, looked up in app1's hosts file at each connection\n`);
  console.log(`app1's hosts file (the old hand-written line is disabled, the block comes first):`);
  console.log(indent((await rig.resolve(rig.agents[0])).content.trimEnd()));
}

/** killMaster's onEvent: one line per event, `+ms  what  text`; `more(e)` prints the kinds of a caller's own sources. */
export function timeline(cluster, more = () => undefined) {
  const width = Math.max(60, (process.stdout.columns || 120) - 27);
  const line = (ms, what, text) => console.log(`${`+${n(ms)}`.padStart(8)}  ${what.padEnd(15)} ${clip(text, width)}`);
  return (e) => {
    if (e.kind === 'step') line(e.ms, e.step.name, e.step.detail);
    else if (e.kind === 'hosts') line(e.ms, `${e.agent} hosts`, `${HOSTNAME} → ${e.address}`);
    else if (e.kind === 'write') {
      const by = cluster.servers.find((s) => s.address === e.address)?.name;
      line(e.ms, 'first write', `acknowledged by ${by} (${e.address}), row ${e.id}, after ${n(e.failures)} failed attempts`);
    } else {
      const [what, text] = more(e) ?? [e.kind, JSON.stringify(e)];
      line(e.ms, what, text);
    }
  };
}

/**
 * The verdict on killMaster's `outcome` once the writer stopped: writes lost, writable servers,
 * replication, when every app host switched, each managed block. Throws unless the failover ended as it should.
 */
export async function printVerdict(rig, outcome) {
  const { cluster, writer } = rig;
  const { record, old } = outcome;
  console.log(bold('\nverdict'));
  if (!record) {
    const health = (await rig.api('/v1/status')).clusters.find((c) => c.name === CLUSTER)?.health;
    console.log(`  no failover within 30 s; the controller says: ${health?.sentence ?? 'nothing'}`);
    throw new Error('the controller did not fail over');
  }
  if (record.outcome !== 'done') console.log(`  failover ${record.outcome}${record.error ? `: ${record.error}` : ''}`);
  if (outcome.timedOut) console.log('  (stopped waiting after 30 s)');
  const newMaster = record.new_master ? cluster.server(record.new_master) : undefined;
  const acked = writer.acknowledged;
  const after = acked.filter((w) => w.address !== old.address).length;
  console.log(`  writes acknowledged: ${n(acked.length)} (${n(acked.length - after)} by ${old.name}, ${n(after)} by the new master)`);
  const missing = newMaster ? await writer.missingOn(newMaster) : acked.map((w) => w.id);
  if (newMaster) console.log(`  on the new master ${newMaster.name}: ${n(acked.length - missing.length)} of them`);
  console.log(`  acknowledged writes lost: ${missing.length === 0 ? 0 : `${n(missing.length)} (ids ${clip(missing.join(', '), 200)})`}`);
  const writable = await cluster.writableServers();
  const down = cluster.servers.filter((s) => !s.isRunning).map((s) => s.name);
  console.log(`  writable: ${writable.map((s) => s.name).join(', ') || 'none'}${writable.length === 1 ? ', exactly one' : ` — ${writable.length} servers!`}${down.length ? ` (${down.join(', ')} down)` : ''}`);
  for (const s of cluster.servers.filter((s) => s.isRunning && s !== newMaster)) {
    const st = await s.slaveStatus().catch(() => undefined);
    const from = cluster.servers.find((m) => m.address === st?.Master_Host)?.name ?? 'nobody';
    console.log(`  ${s.name} replicates from ${from} (IO ${st?.Slave_IO_Running ?? '-'}, SQL ${st?.Slave_SQL_Running ?? '-'})`);
  }
  const switchedAt = [...outcome.hosts.values()].filter((h) => h.address === newMaster?.address).map((h) => h.at);
  const switched = switchedAt.length === rig.agents.length ? Math.max(...switchedAt) : undefined;
  if (switched) console.log(`  every app host switched ${n(Math.round(switched - outcome.killAt))} ms after the kill`);
  else console.log(`  app hosts on ${newMaster?.name ?? 'the new master'}: ${switchedAt.length} of ${rig.agents.length}`);
  for (const agent of rig.agents) {
    console.log(`  ${agent.name}'s managed block:`);
    console.log(indent(indent(managedBlock((await rig.resolve(agent)).content) ?? '(none)')));
  }
  const ok = record.outcome === 'done' && missing.length === 0 && writable.length === 1 && writable[0] === newMaster
    && switched !== undefined;
  if (!ok) throw new Error('the failover did not end as it should: see the verdict above');
}
