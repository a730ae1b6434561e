import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failoverHistory, resolvedBy, rowIds, startFailoverFleet } from './support/failover-fleet.js';
import { type Fleet, HOSTNAME } from './support/fleet.js';
import {
  type Cluster,
  HostnameWriter,
  type NetnsLayout,
  PacketDrop,
  ReadOnlySampler,
  type Server,
  startCluster,
  twoWritableWindows,
  waitFor,
} from './support/mariadb.js';

// Issue 10's missing evidence, on servers that are hosts of their own (the netns layout): a
// partition leaves the master with the application, cut off from the controller and the replicas
// (the agents, whose probes the controller asks, run beside the controller and are cut off from the
// master too). The old master's host does not refuse anything, it is silent. Semi-sync as
// production must run it (a commit waits for an ack far longer than any failover): with the test
// convenience of a 1 s timeout the cut-off master acknowledges writes no replica has, which `check`
// is to refuse. The cut-off master cannot be made read_only until it is reached (no fence_command
// here to power it off), so the invariant is the one a user can hold us to: no two servers
// acknowledge writes in overlapping windows, no two servers the controller reaches are writable at
// once, the old master is fenced as soon as it is reached again, and after the heal one writable
// server that every hosts file names holds every acknowledged write.

const PARTITION_MS = 15_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a partition that leaves the master with the application, away from the controller and the replicas', () => {
  let cluster: Cluster;
  let drop: PacketDrop;
  let fleet: Fleet | undefined;

  beforeAll(async () => {
    cluster = await startCluster({ id: 43, network: 'netns', semisync: 'production' });
    drop = new PacketDrop(cluster.network as NetnsLayout);
  });
  afterAll(async () => {
    drop?.heal();
    await fleet?.destroy();
    await cluster?.destroy();
  });

  it('fails over without overlapping acknowledgements; the old master is fenced within 1 s of the heal; one writable server, named by every hosts file, holds every acknowledged write', async () => {
    const network = cluster.network as NetnsLayout;
    const { master, replicas } = cluster;
    // One spare address is the application's host, on the master's side.
    const [appAddress] = network.spareAddresses as [string];
    fleet = await startFailoverFleet(cluster);
    const writer = new HostnameWriter({
      hostsFile: fleet.agents[0]!.hostsFile,
      hostname: HOSTNAME,
      port: master.port,
      login: cluster.app,
      localAddress: appAddress,
    }).start();
    // Watched from the controller's side of the partition: what the controller can reach.
    const sampler = new ReadOnlySampler(cluster.servers, 100, 300).start();
    let final: Server | undefined;
    let cut = { from: 0, to: 0 };
    try {
      await waitFor(() => writer.acknowledged.length >= 20, 10_000, 'writes on mysql1');
      drop.partition([master.address, appAddress], [network.rootAddress, ...replicas.map((s) => s.address)]);
      cut = { from: Date.now(), to: Date.now() };
      await sleep(PARTITION_MS);
      drop.heal();
      cut.to = Date.now();
      await waitFor(async () => (await master.variable('read_only')) === '1', 1000, 'the old master fenced within 1 s of the heal');
      await waitFor(async () => {
        const writable = await cluster.writableServers();
        const named = await resolvedBy(fleet!);
        final = writable.length === 1 && named.every((a) => a === writable[0]!.address) ? writable[0] : undefined;
        return final;
      }, 15_000, 'one writable server that every hosts file names');
      // The application goes on writing through the hostname after the heal.
      const count = writer.acknowledged.length;
      await waitFor(() => writer.acknowledged.length >= count + 10, 10_000, 'writes after the heal');
    } finally {
      await writer.stop();
      await sampler.stop();
    }
    // What the application saw during the partition, and what the old master holds that the final one lacks.
    const during = writer.attempts.filter((a) => a.start >= cut.from && a.start < cut.to);
    const outcomes = Object.fromEntries(['ok', 'failed', 'indeterminate'].map((o) => [o, during.filter((a) => a.outcome === o).length]));
    const onFinal = await rowIds(final!);
    const onlyOnOldMaster = final === master ? 0 : [...(await rowIds(master))].filter((id) => !onFinal.has(id)).length;
    const history = await failoverHistory(fleet);
    const story = JSON.stringify({ cut, outcomes, onlyOnOldMaster, history, samples: sampler.samples }, null, 1);
    // The old master answers as it was left, writable, from the heal until the controller fences it:
    // whoever looks first sees that (the sampler did, 102 ms before the fence, in one CI run). That
    // window, shorter than the 1 s the fence is given, is the one the invariant allows; any other is not.
    const twoWritableMs = twoWritableWindows(sampler.samples, Date.now())
      .filter((w) => !(w.back.includes(master.name) && w.ms <= 1000))
      .reduce((total, w) => total + w.ms, 0);
    // Acknowledgements by the old master all come before the first one by the new master.
    const acks = (address: string) => writer.acknowledged.filter((w) => w.address === address).map((w) => w.at);
    const lastOnOld = Math.max(...acks(master.address));
    const overlapMs = final === master ? 0 : Math.max(0, lastOnOld - Math.min(...acks(final!.address)));
    const missing = await writer.missingOn(final!);
    expect({ twoWritableMs, overlapMs, lost: missing.length, failedOver: final !== master }, story).toEqual({
      twoWritableMs: 0,
      overlapMs: 0,
      lost: 0,
      failedOver: true,
    });
  }, 90_000);
});
