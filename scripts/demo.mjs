// npm run demo: automatic failover on real MariaDB, end to end, with real processes on this machine.
// Three mariadbd on loopback addresses (mysql1 master, mysql2 candidate, mysql3; semi-sync), a
// controller, two agents each owning a block in its own sandbox hosts file, and an application
// writing through mysql-master.myservice.com. It SIGKILLs the master, prints the timeline and a
// verdict, and stops every process it started (also on Ctrl-C). It installs nothing.
import { CLUSTER, HOSTNAME, killMaster, managedBlock, requireMariadb, Rig, runMain, sandbox } from './lib/failover-rig.mjs';

const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const indent = (text) => text.replace(/^/gm, '  ');
const n = (x) => x.toLocaleString('en-US');
const clip = (text, width) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

async function main() {
  requireMariadb();
  console.log(bold('pullover demo: the master dies under a write load\n'));
  let started = Date.now();
  const cluster = await sandbox(50);
  const [mysql1, mysql2, mysql3] = cluster.servers;
  console.log(`MariaDB    mysql1 ${mysql1.address} (master), mysql2 ${mysql2.address} (candidate), mysql3 ${mysql3.address}`);
  console.log(`           port ${mysql1.port}, GTID replication, semi-sync; up in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  started = Date.now();
  const rig = await Rig.start(cluster);
  const writer = rig.startWriter();
  await rig.ready();
  console.log(`controller ${rig.url}, cluster ${CLUSTER}: ping (connect) every 1 s, timeout 1 s, 3 failures`);
  console.log(`agents     ${rig.agents.map((a) => a.name).join(', ')}, each on its own hosts file; ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`writer     INSERTs through ${HOSTNAME}, looked up in app1's hosts file at each connection\n`);
  console.log(`app1's hosts file (the old hand-written line is disabled, the block comes first):`);
  console.log(indent((await rig.resolve(rig.agents[0])).content.trimEnd()));

  await new Promise((r) => setTimeout(r, 1500));
  const before = writer.acknowledged.length;
  console.log(`\n${n(before)} writes acknowledged so far, all by mysql1`);

  console.log(bold(`\nSIGKILL mysql1 (pid ${mysql1.pid}); ms since the kill:`));
  const width = Math.max(60, (process.stdout.columns || 120) - 27);
  const line = (ms, what, text) => console.log(`${`+${n(ms)}`.padStart(8)}  ${what.padEnd(15)} ${clip(text, width)}`);
  const outcome = await killMaster(rig, {
    onEvent(e) {
      if (e.kind === 'step') line(e.ms, e.step.name, e.step.detail);
      if (e.kind === 'hosts') line(e.ms, `${e.agent} hosts`, `${HOSTNAME} → ${e.address}`);
      if (e.kind === 'write') {
        line(e.ms, 'first write', `acknowledged by ${cluster.servers.find((s) => s.address === e.address)?.name} (${e.address}), row ${e.id}, after ${n(e.failures)} failed attempts`);
      }
    },
  });
  // A second more of writes on the new master, then the verdict on all of them.
  if (outcome.firstWrite) await new Promise((r) => setTimeout(r, 1000));
  await writer.stop();

  const { record } = outcome;
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
  const after = acked.filter((w) => w.address !== mysql1.address).length;
  console.log(`  writes acknowledged: ${n(acked.length)} (${n(acked.length - after)} by mysql1, ${n(after)} by the new master)`);
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
  for (const agent of rig.agents) {
    console.log(`  ${agent.name}'s managed block:`);
    console.log(indent(indent(managedBlock((await rig.resolve(agent)).content) ?? '(none)')));
  }
  const ok = record.outcome === 'done' && missing.length === 0 && writable.length === 1 && writable[0] === newMaster;
  if (!ok) throw new Error('the failover did not end as it should: see the verdict above');
  console.log('\nstopping everything the demo started…');
}

await runMain(main);
