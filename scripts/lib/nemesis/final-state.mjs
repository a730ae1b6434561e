// What the checker judges at the end of a run, read from the servers, the hosts files and the
// controller once every fault is healed; and the wait for the system to get there.
import { CLUSTER } from '../failover-rig.mjs';

const QUERY = { timeoutMs: 5000, connectTimeoutMs: 2000 };

/**
 * Waits up to `timeoutMs` for a settled system: one writable server that the controller names,
 * every other server replicating from it or fenced, every hosts file on it, no failover running.
 * Returns the sentence of what was still missing at the end, or undefined when it converged.
 */
export async function converge(rig, cluster, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let missing;
  while (Date.now() < deadline) {
    missing = await unsettled(rig, cluster).catch((err) => err.message);
    if (!missing) return undefined;
    await new Promise((r) => setTimeout(r, 500));
  }
  return missing;
}

async function unsettled(rig, cluster) {
  const writable = await cluster.writableServers();
  if (writable.length !== 1) return `${writable.length} writable servers`;
  const [master] = writable;
  const status = (await rig.api('/v1/status')).clusters.find((c) => c.name === CLUSTER);
  if (status.master !== master.name) return `the controller names ${status.master}, ${master.name} is writable`;
  if (status.failover.running) return 'a failover is running';
  for (const s of cluster.servers.filter((x) => x !== master)) {
    const fenced = status.servers.find((x) => x.name === s.name)?.fenced;
    const st = await s.slaveStatus().catch(() => undefined);
    const ok = st?.Master_Host === master.address && st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
    if (!ok && !fenced) return `${s.name} does not replicate from ${master.name}`;
  }
  for (const agent of rig.agents) {
    const { address } = await rig.resolve(agent);
    if (address !== master.address) return `${agent.name}'s hosts file names ${address}`;
  }
  return undefined;
}

/** The FinalState of the checker's history. */
export async function finalState(rig, cluster) {
  const readOnly = await Promise.all(cluster.servers.map((s) => s.variable('read_only').then(
    (v) => v === '1',
    () => null,
  )));
  const writable = cluster.servers.filter((_, i) => readOnly[i] === false);
  const master = writable.length === 1 ? writable[0] : undefined;
  const masterPos = await master?.variable('gtid_binlog_pos').catch(() => undefined);
  const servers = await Promise.all(cluster.servers.map(
    (s, i) => serverState(s, readOnly[i], s !== master && master, masterPos),
  ));
  const status = (await rig.api('/v1/status')).clusters.find((c) => c.name === CLUSTER);
  return {
    servers,
    hosts: await Promise.all(rig.agents.map(async (a) => ({ agent: a.name, address: (await rig.resolve(a)).address }))),
    failovers: (await rig.history()).filter((f) => f.cluster === CLUSTER),
    controllerMaster: status?.master,
    fenced: (status?.servers ?? []).filter((s) => s.fenced).map((s) => s.name),
    health: status?.health?.sentence,
    healthState: status?.health?.state,
  };
}

/** `master`: the one writable server, when `s` is another; `masterPos` its gtid_binlog_pos. */
async function serverState(s, readOnly, master, masterPos) {
  const state = { name: s.name, reachable: false, readOnly, replication: null, gtidBinlogState: '', rowIds: [] };
  try {
    let st = await s.slaveStatus();
    // Rows after the wait: a replica a little behind is not missing anything.
    if (master && masterPos !== undefined && st?.Master_Host === master.address) {
      state.caughtUp = await caughtUp(s, masterPos);
      st = await s.slaveStatus();
    }
    state.replication = st && {
      masterHost: st.Master_Host,
      io: st.Slave_IO_Running,
      sql: st.Slave_SQL_Running,
      ioError: st.Last_IO_Error,
      sqlError: st.Last_SQL_Error,
      sqlState: st.Slave_SQL_Running_State,
    };
    state.gtidBinlogState = await s.variable('gtid_binlog_state');
    const rows = await s.query('SELECT id FROM app.writes', [], QUERY);
    state.rowIds = rows.map((r) => Number(r.id));
    state.reachable = true;
  } catch {
    // unreachable: the checker says so
  }
  return state;
}

async function caughtUp(s, gtid) {
  const [row] = await s.query('SELECT MASTER_GTID_WAIT(?, 10) AS r', [gtid], { ...QUERY, timeoutMs: 15_000 });
  return row?.r === 0;
}
