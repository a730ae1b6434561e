// npm run demo: automatic failover on real MariaDB, end to end, with real processes on this machine.
// Three mariadbd on loopback addresses (mysql1 master, mysql2 candidate, mysql3; semi-sync), a
// controller, two agents each owning a block in its own sandbox hosts file, and an application
// writing through mysql-master.myservice.com. It SIGKILLs the master, prints the timeline and a
// verdict, and stops every process it started (also on Ctrl-C). It installs nothing.
// npm run demo -- --ha: the same with three controllers on etcd, the leader killed with the master (demo-ha.mjs).
import { parseArgs } from 'node:util';
import { CLUSTER, killMaster, requireMariadb, Rig, runMain, sandbox } from './lib/failover-rig.mjs';
import { bold, n, pause, printMariadb, printVerdict, printWriterAndHosts, seconds, timeline } from './lib/demo-output.mjs';

async function main() {
  requireMariadb();
  console.log(bold('pullover demo: the master dies under a write load\n'));
  let started = Date.now();
  const cluster = await sandbox(50);
  printMariadb(cluster, started);

  started = Date.now();
  const rig = await Rig.start(cluster);
  const writer = rig.startWriter();
  await rig.ready();
  console.log(`controller ${rig.url}, cluster ${CLUSTER}: ping (connect) every 1 s, timeout 1 s, 3 failures`);
  console.log(`agents     ${rig.agents.map((a) => a.name).join(', ')}, each on its own hosts file; ready in ${seconds(started)}`);
  await printWriterAndHosts(rig);

  await pause(1500);
  console.log(`\n${n(writer.acknowledged.length)} writes acknowledged so far, all by ${cluster.master.name}`);

  console.log(bold(`\nSIGKILL ${cluster.master.name} (pid ${cluster.master.pid}); ms since the kill:`));
  const outcome = await killMaster(rig, { onEvent: timeline(cluster) });
  // A second more of writes on the new master, then the verdict on all of them.
  if (outcome.firstWrite) await pause(1000);
  await writer.stop();
  await printVerdict(rig, outcome);
  console.log('\nstopping everything the demo started…');
}

const { values } = parseArgs({ options: { ha: { type: 'boolean', default: false } } });
if (values.ha) await import('./demo-ha.mjs');
else await runMain(main);
