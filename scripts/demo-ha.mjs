// npm run demo -- --ha: three controllers on a real three-member etcd around real MariaDB, two
// agents each given all three controllers (each polls the one its name hashes to), an application
// writing through mysql-master.myservice.com. It SIGKILLs the leading controller and the master at
// the same instant, prints who led, when another controller took over and acted, and the verdict;
// it stops every process it started (also on Ctrl-C) and installs nothing.
import { CLUSTER, killMaster, requireMariadb, runMain, sandbox } from './lib/failover-rig.mjs';
import { bold, n, pause, printMariadb, printVerdict, printWriterAndHosts, seconds, timeline } from './lib/demo-output.mjs';
import { etcdSandbox, HaRig, requireEtcd } from './lib/ha-rig.mjs';

// Sandbox ids of their own: no test uses MariaDB cluster 51 or etcd 80 (the plain demo's cluster is 50).
const MARIADB_ID = 51;
const ETCD_ID = 80;
// TTL − 0.5 s margin ≥ monitor interval + 2 × retry budget: 3 s − 0.5 s ≥ 0.5 s + 2 × 1 s.
const LEASE = { leaseTtl: '3s', retryTimeout: '1s' };
const MONITOR = { interval: '500ms' };

/** Both started at once; if either fails, the other is still tracked (and stopped) before the error goes on. */
async function both(...starts) {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => r.value);
}

async function main() {
  requireMariadb();
  requireEtcd();
  console.log(bold('pullover demo --ha: the leading controller and the master die together under a write load\n'));
  let started = Date.now();
  const [cluster, etcd] = await both(sandbox(MARIADB_ID), etcdSandbox(ETCD_ID));
  printMariadb(cluster, started);
  console.log(`etcd       ${etcd.members.map((m) => `${m.name} ${m.clientUrl}`).join(', ')}; healthy in ${seconds(started)}`);

  started = Date.now();
  const rig = await HaRig.start(cluster, etcd, { ...LEASE, monitor: MONITOR });
  const writer = rig.startWriter();
  await rig.ready();
  const leader = await rig.waitLeader(10_000);
  const { pid } = rig.controllers[leader.index];
  console.log(`controllers ${rig.urls.map((url, i) => `${rig.nameOf(i)} ${url}`).join(', ')}`);
  console.log(`           on etcd, lease ${LEASE.leaseTtl}, retry budget ${LEASE.retryTimeout}; cluster ${CLUSTER}: ping (connect) every 500 ms, timeout 1 s, 3 failures`);
  console.log(`           ${leader.name} leads (term ${leader.term}); the other two follow the state in etcd and serve it`);
  const placement = rig.placement();
  const polls = rig.agents.map((a) => `${a.name} polls ${placement.get(a.name) ?? '?'}`).join(', ');
  console.log(`agents     ${polls}; each given all three URLs, on its own hosts file; ready in ${seconds(started)}`);
  await printWriterAndHosts(rig);

  await pause(1500);
  console.log(`\n${n(writer.acknowledged.length)} writes acknowledged so far, all by ${cluster.master.name}`);

  // From now on the watches ask a controller that lives on.
  rig.use((leader.index + 1) % rig.ports.length);
  console.log(bold(`\nSIGKILL ${leader.name} (the leader, pid ${pid}), then ${cluster.master.name} (pid ${cluster.master.pid}); ms since the kill:`));
  let next;
  const outcome = await killMaster(rig, {
    alsoKill: () => rig.controllers[leader.index].kill('SIGKILL'),
    sources: [rig.watchLeader(leader.name)],
    timeoutMs: 30_000,
    onEvent: timeline(cluster, (e) => {
      if (e.kind !== 'leader') return undefined;
      next = e;
      return ['new leader', `${e.name} leads term ${e.term}: it took up the state from etcd and may act`];
    }),
  });
  if (outcome.firstWrite) await pause(1000);
  await writer.stop();

  console.log(bold('\nleadership'));
  console.log(`  led before:  ${leader.name} (term ${leader.term}), SIGKILLed with ${outcome.old.name}`);
  if (next) console.log(`  took over:   ${next.name} (term ${next.term}), ${n(next.ms)} ms after the kill (lease ${LEASE.leaseTtl})`);
  else console.log('  took over:   nobody within 30 s');
  // A follower probes MySQL too, so the failover's first step (detected) may predate the new leadership.
  const ms = (step) => Math.round(Date.parse(step.at) - outcome.killAt);
  const steps = (outcome.record?.steps ?? []).filter((step) => next && ms(step) >= next.ms);
  const published = steps.find((step) => step.name === 'published');
  if (steps.length > 0) {
    const then = published ? `, published the new master ${n(ms(published))} ms` : '';
    console.log(`  acted:       first step as the leader (${steps[0].name}) ${n(ms(steps[0]))} ms after the kill${then}`);
  }
  await printVerdict(rig, outcome);
  if (!next) throw new Error('no other controller took over');
  console.log('\nstopping everything the demo started…');
}

await runMain(main);
