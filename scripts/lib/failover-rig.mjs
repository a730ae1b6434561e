// What the demo, the nemesis and the benches share beyond the sandbox's rig (ProcessFleet, also the
// tests'): a real MariaDB sandbox, a controller and agents on sandbox hosts files (never /etc/hosts),
// a writer going through the hostname, live watches of the failover history and of the hosts files,
// and the cleanup of every process started here, by PID — on success, on error and on Ctrl-C.
import { existsSync, rmSync, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clearInterval, setInterval } from 'node:timers';
import { addressIn, eventually, HostnameWriter, MARIADBD, ProcessFleet, signalPid, startCluster } from '@pullover/sandbox';

export const HOSTNAME = 'mysql-master.myservice.com';
export const CLUSTER = 'myservice';

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started here is tracked; the normal path stops it in reverse order.

const tracked = [];
let interrupted = false;

/**
 * `stop` runs on the normal path and on a signal (once, however often it is asked for); `stopSync`
 * (SIGKILL by PID, rm) when that takes too long, or at exit. Returns the function that forgets it.
 */
export function track({ stop, stopSync }) {
  let stopping;
  const thing = { stop: () => (stopping ??= stop().catch(() => undefined)), stopSync };
  tracked.push(thing);
  return () => untrack(thing);
}

function untrack(thing) {
  const at = tracked.indexOf(thing);
  if (at >= 0) tracked.splice(at, 1);
}

async function stopAll() {
  // The sandbox unrefs its mariadbd children: without a handle of our own, Node would exit while
  // awaiting their exit, before the temp dirs are removed.
  const keepAlive = setInterval(() => {}, 1000);
  for (const thing of [...tracked].reverse()) {
    await thing.stop();
    untrack(thing);
  }
  clearInterval(keepAlive);
}

function stopAllSync() {
  while (tracked.length > 0) tracked.pop().stopSync();
}

function hookSignals() {
  const leave = (code) => {
    if (interrupted) return;
    interrupted = true;
    // The clean path (SIGTERM, await exit, rm) normally takes a second; SIGKILL whatever is left after 10 s.
    setTimeout(() => {
      stopAllSync();
      process.exit(code);
    }, 10_000).unref();
    void stopAll().then(() => process.exit(code));
  };
  // process.on, not once: the sandbox re-raises the signal after killing its mariadbd, and that
  // second delivery must land here instead of ending the process before the cleanup is done.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) process.on(signal, () => leave(code));
  // A closed pipe (`npm run demo | head`).
  process.stdout.on('error', () => leave(1));
  process.once('exit', stopAllSync);
}

/** Runs `main`, reports a failure in one line, and always stops what was started (also on a signal). */
export async function runMain(main) {
  hookSignals();
  try {
    await main();
  } catch (err) {
    // Interrupted, main fails as its processes go away: not worth a message.
    if (!interrupted) console.error(`\n${process.argv[1]?.split('/').pop()} failed: ${err.message}`);
    process.exitCode = 1;
  } finally {
    await stopAll();
  }
}

// ---------------------------------------------------------------------------------------------
// MariaDB

/** Exits 1 with the one command that installs MariaDB when it is missing; installs nothing. */
export function requireMariadb() {
  const installDb = (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, 'mariadb-install-db')));
  if (existsSync(MARIADBD) && installDb) return;
  console.log(`MariaDB is not installed (${MARIADBD} and mariadb-install-db are needed). Install it with:\n`);
  console.log('  sudo apt-get install -y mariadb-server');
  process.exit(1);
}

/**
 * Three real mariadbd (mysql1 master, mysql2 and mysql3 GTID replicas, semi-sync) on 127.0.<id>.1..3.
 * `semisync: 'production'` for semi-sync as operators run it (see the sandbox's Semisync);
 * `network: 'netns'` for every server a host of its own on 10.200.<id>.1..3 (needed to black-hole
 * one); `slaveNetTimeout` in seconds (default the tests' 4; MariaDB's own is 60).
 */
export async function sandbox(id, { semisync = true, network, slaveNetTimeout } = {}) {
  requireMariadb();
  const cluster = await startCluster({ id, semisync, port: 13306, network, slaveNetTimeout });
  track({
    stop: () => cluster.destroy(),
    stopSync: () => {
      for (const s of cluster.servers) signalPid(s.pid, 'SIGKILL');
      cluster.network?.destroy();
      rmSync(cluster.dir, { recursive: true, force: true, maxRetries: 3 });
    },
  });
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// A controller, agents and a writer around a sandbox cluster, in one temp dir of their own.

/** The cluster's monitor settings unless Rig.start is given others: the product's defaults. */
export const DEFAULT_MONITOR = Object.freeze({ interval: '1s', timeout: '1s', ping: 'connect', failures: 3 });

/**
 * What the demo, the nemesis and the benches do with a fleet of real processes around a sandbox
 * cluster, whatever its controllers: one (Rig, below) or several on etcd (HaRig, ha-rig.mjs).
 * Requests go to the fleet's `url`: the one controller, or the one HaFleet.use() picked.
 */
export const RigOf = (Fleet) => class extends Fleet {
  watchers = [];
  writers = [];

  constructor(cluster, dir) {
    super(dir);
    this.cluster = cluster;
  }

  /** The first writer started, if any. */
  get writer() {
    return this.writers[0];
  }

  /** The controller's config as the sandbox's ControllerSpec (the secrets written to files here). */
  async controllerSpec(monitor, clusterYaml) {
    const { cluster } = this;
    const [master, candidate, ...others] = cluster.servers;
    const entry = (s) => ({ name: s.name, address: s.address });
    return {
      cluster: CLUSTER,
      masterHostnames: [HOSTNAME],
      mysql: {
        port: master.port,
        user: cluster.admin.user,
        password_file: await this.secretFile('mysql-password', cluster.admin.password),
        replication_user: cluster.repl.user,
        replication_password_file: await this.secretFile('repl-password', cluster.repl.password),
      },
      servers: [entry(master), { ...entry(candidate), candidate: true }, ...others.map(entry)],
      clusterExtra: [`monitor: ${JSON.stringify(monitor)}`, ...clusterYaml].map((line) => `    ${line}\n`).join(''),
    };
  }

  /** SIGKILL of agent `name` by PID; resolves once it has exited. */
  killAgent(name) {
    return this.agent(name).proc.kill('SIGKILL');
  }

  /** Starts agent `name` again on its config, hosts file and state dir. */
  restartAgent(name) {
    return this.startAgent(this.agent(name));
  }

  /** Agent `name`'s files, asking `controllers` (default: the fleet's one). */
  writeRigAgent(name, controllers) {
    // The hand-written line of the rsync era: the agent comments it out so that it cannot shadow the block.
    const hosts = `127.0.0.1\tlocalhost\n${this.cluster.master.address}\t${HOSTNAME}\n`;
    return this.writeAgent(name, { hosts, ...(controllers ? { controllers } : {}) });
  }

  logTail(name, lines = 15) {
    const proc = name === 'controller' ? this.controller : this.agent(name).proc;
    return proc ? proc.logTail(lines) : Promise.resolve('(no log)');
  }

  /** An admin call: GET, or POST with `body`. */
  async api(path, body) {
    const response = await this.adminRequest(body === undefined ? 'GET' : 'POST', path, body);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  }

  async history() {
    return (await this.api('/v1/history')).failovers;
  }

  /** Where `agent`'s hosts file points the hostname, and when the file was last written. */
  async resolve(agent) {
    const [content, { mtimeMs }] = await Promise.all([readFile(agent.hostsFile, 'utf8'), stat(agent.hostsFile)]);
    return { address: addressIn(content, HOSTNAME), at: mtimeMs, content };
  }

  /**
   * A writer through agent `at`'s hosts file (app1's by default), with the sandbox's `app` login;
   * `localAddress`: the address it connects from (a spare address of the netns layout).
   */
  startWriter({ at = 0, firstId = 1, localAddress } = {}) {
    const writer = new HostnameWriter({
      hostsFile: this.agents[at].hostsFile,
      hostname: HOSTNAME,
      port: this.cluster.master.port,
      login: this.cluster.app,
      firstId,
      localAddress,
    }).start();
    this.writers.push(writer);
    return writer;
  }

  /**
   * Ready to lose the master: every hosts file names it, the controller's monitor sees every server
   * and calls the master alive, and every agent acknowledged the current version.
   */
  async ready(timeoutMs = 30_000) {
    const master = this.cluster.master;
    let last = 'no status yet';
    await eventually(async () => {
      const unmanaged = [];
      for (const agent of this.agents) {
        const { address, content } = await this.resolve(agent);
        if (address !== master.address || !managedBlock(content)) unmanaged.push(agent.name);
      }
      if (unmanaged.length > 0) {
        last = `hosts file not managed yet: ${unmanaged.join(', ')}`;
        return false;
      }
      const status = await this.api('/v1/status');
      const cluster = status.clusters.find((c) => c.name === CLUSTER);
      const blind = cluster.servers.filter((s) => !s.observed?.reachable).map((s) => s.name);
      last = `health ${cluster.health?.state ?? 'unknown'}; not observed: ${blind.join(', ') || 'none'}; agents current ${status.agents_current} of ${this.agents.length}`;
      return cluster.health?.state === 'master-alive' && blind.length === 0 && status.agents_current === this.agents.length;
    }, timeoutMs, 'the controller and the agents to be ready').catch(async (err) => {
      throw new Error(`${err.message}\n${last}\n--- controller.log (last lines)\n${await this.logTail('controller')}`);
    });
  }

  /**
   * Calls `onStep(record, step)` once for every failover step as it appears in GET /v1/history and
   * `onRecord(record)` on every poll of the newest record. Polls every 50 ms.
   */
  watchHistory(onStep, onRecord = () => {}) {
    const seen = new Set();
    let busy = false;
    const poll = async () => {
      if (busy) return;
      busy = true;
      try {
        for (const record of await this.history()) {
          for (const step of record.steps) {
            const key = `${record.id} ${step.name} ${step.at}`;
            if (!seen.has(key)) {
              seen.add(key);
              onStep(record, step);
            }
          }
          onRecord(record);
        }
      } catch {
        // the controller is busy or gone; the next poll tells
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(poll, 50);
    this.watchers.push(() => clearInterval(timer));
  }

  /** Calls `onChange(agent, {address, at})` whenever an agent's hosts file names another address (at: its mtime). */
  watchHosts(onChange) {
    for (const agent of this.agents) {
      let current;
      const check = async () => {
        const now = await this.resolve(agent).catch(() => undefined);
        if (now && now.address !== current) {
          current = now.address;
          onChange(agent, now);
        }
      };
      // The agent replaces the file by rename: watch the directory; the interval is the safety net.
      const watcher = watch(join(agent.hostsFile, '..'), () => void check());
      const timer = setInterval(check, 100);
      this.watchers.push(() => watcher.close(), () => clearInterval(timer));
      void check();
    }
  }

  /** Stops the writer, the agents and the controller (SIGTERM by PID, SIGKILL after 5 s); removes the dir. */
  stop() {
    this.stopping ??= this.#stop().finally(() => this.untrack?.());
    return this.stopping;
  }

  async #stop() {
    for (const unwatch of this.watchers.splice(0)) unwatch();
    await Promise.all(this.writers.map((w) => w.stop()));
    await this.destroy(5000);
  }
};

/** One controller (its state dir) and its agents. */
export class Rig extends RigOf(ProcessFleet) {
  /**
   * Fresh dir, fresh controller state, fresh agent state: safe to start again on a reset() cluster.
   * `clusterYaml`: more keys of the cluster in controller.yaml (e.g. `rejoin: auto`), one per line;
   * `monitor`: keys of its `monitor` that differ from DEFAULT_MONITOR (e.g. `{ interval: '500ms' }`).
   */
  static async start(cluster, { agents = ['app1', 'app2'], clusterYaml = [], monitor = {} } = {}) {
    const rig = new Rig(cluster, await ProcessFleet.makeDir('pullover-rig-'));
    rig.untrack = track({ stop: () => rig.stop(), stopSync: () => rig.destroySync() });
    await rig.configureController(await rig.controllerSpec({ ...DEFAULT_MONITOR, ...monitor }, clusterYaml));
    await rig.startController();
    for (const name of agents) await rig.startAgent(await rig.writeRigAgent(name));
    return rig;
  }

  /** Starts the controller on the same config, port and state dir (again, after killController). */
  startController() {
    return super.startController(undefined, 15_000);
  }

  /** SIGKILL by PID, as a crash: no cleanup of its own. Resolves once it has exited. */
  killController() {
    return this.controller.kill('SIGKILL');
  }
}

/** From the initial topology: a fresh rig (`options` as Rig.start's) with the writer running, handed to `use`; always stopped after. */
export async function withRig(cluster, use, options = {}) {
  await cluster.reset();
  const rig = await Rig.start(cluster, options);
  try {
    const writer = rig.startWriter();
    await rig.ready();
    return await use(rig, writer);
  } finally {
    await rig.stop();
  }
}

/** `--runs N` (default 5), checked. */
export function runsOption() {
  return benchOptions().runs;
}

/** `--runs N` (default 5, checked, as `runs`) and the bench's own `options` (parseArgs's), as parsed values. */
export function benchOptions(options = {}) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, ...options } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  return { ...values, runs };
}

/**
 * SIGKILLs the master (by PID, through the sandbox) and follows the failover until it is recorded,
 * every hosts file names the new master and a write through the hostname was acknowledged there, or
 * until `timeoutMs`. Events go to `onEvent` in time order, each about 250 ms after it happened (the
 * sources are polled), as {at, ms, kind: 'step' | 'hosts' | 'write', ...}: `at` epoch ms, `ms` since the kill.
 * `alsoKill`: SIGKILLs something more at the same instant (the leading controller); `sources`: more
 * watches, each called with `emit` once the rig's own are set up (their events take any other kind).
 */
export async function killMaster(rig, { onEvent = () => {}, timeoutMs = 30_000, alsoKill, sources = [] } = {}) {
  const { cluster, writer } = rig;
  const old = cluster.master;
  const result = { old, killAt: 0, record: undefined, hosts: new Map(), firstWrite: undefined, timedOut: false };
  const pending = [];
  const emit = (event) => {
    if (result.killAt > 0) pending.push({ ...event, ms: Math.round(event.at - result.killAt) });
  };
  // Within a millisecond, the controller's step first: it is recorded once the publish call returns,
  // and the fastest agent may have written its file by then.
  const rank = { step: 0, hosts: 1, write: 2 };
  const release = (all) => {
    pending.sort((a, b) => Math.floor(a.at) - Math.floor(b.at) || (rank[a.kind] ?? -1) - (rank[b.kind] ?? -1));
    while (pending.length > 0 && (all || pending[0].at <= Date.now() - 250)) onEvent(pending.shift());
  };
  let scanned = writer.acknowledged.length;
  const scanWrites = () => {
    const acks = writer.acknowledged;
    for (; scanned < acks.length && !result.firstWrite; scanned++) {
      if (acks[scanned].address !== old.address) {
        result.firstWrite = acks[scanned];
        emit({ kind: 'write', ...acks[scanned], failures: writer.failures });
      }
    }
  };
  rig.watchHistory(
    (record, step) => emit({ kind: 'step', at: Date.parse(step.at), step, record }),
    (record) => {
      result.record = record;
    },
  );
  rig.watchHosts((agent, { address, at }) => {
    // A file can be seen twice for one write (rename, then change): report each new address once.
    if (address === old.address || result.hosts.get(agent.name)?.address === address) return;
    result.hosts.set(agent.name, { address, at });
    emit({ kind: 'hosts', at, agent: agent.name, address });
  });
  for (const watch of sources) watch(emit);
  const ticker = setInterval(() => {
    scanWrites();
    release(false);
  }, 25);
  try {
    result.killAt = Date.now();
    await Promise.all([alsoKill?.(), old.kill('SIGKILL')]);
    await eventually(() => {
      scanWrites();
      const { record } = result;
      if (!record || record.outcome === 'running') return false;
      if (record.outcome === 'failed') return true;
      const address = cluster.server(record.new_master).address;
      return result.firstWrite && rig.agents.every((a) => result.hosts.get(a.name)?.address === address);
    }, timeoutMs, 'the failover');
  } catch {
    result.timedOut = true;
  } finally {
    clearInterval(ticker);
    scanWrites();
    release(true);
  }
  return result;
}

/** The managed block of a hosts file, or undefined. */
export function managedBlock(content) {
  const lines = content.split('\n');
  const begin = lines.findIndex((l) => l.startsWith('# BEGIN pullover'));
  const end = lines.findIndex((l) => l.startsWith('# END pullover'));
  return begin >= 0 && end > begin ? lines.slice(begin, end + 1).join('\n') : undefined;
}
