// Several controllers on a real etcd around a sandbox cluster, for `npm run demo -- --ha`: the
// sandbox's HaFleet (one config per controller, the same store.etcd) with the rig's writer, watches
// and cleanup (failover-rig.mjs), and the etcd members tracked like every other process started here.
import { existsSync, rmSync } from 'node:fs';
import { clearInterval, setInterval } from 'node:timers';
import { ETCD, HaFleet, signalPid, startEtcd } from '@pullover/sandbox';
// The agent's own ranking (not exported by the package: its dist file, built by `npm run build`).
import { rankControllers } from '../../packages/agent/dist/rotation.js';
import { DEFAULT_MONITOR, RigOf, track } from './failover-rig.mjs';

/** Exits 1 with the one command that installs etcd when it is missing; installs nothing. */
export function requireEtcd() {
  if (existsSync(ETCD)) return;
  console.log(`etcd is not installed (${ETCD} is needed for several controllers). Install it with:\n`);
  console.log('  sudo apt-get install -y etcd-server');
  process.exit(1);
}

/** Three etcd members on 127.0.<id>.1..3, stopped with everything else (also on Ctrl-C). */
export async function etcdSandbox(id) {
  requireEtcd();
  const etcd = await startEtcd({ id });
  track({
    stop: () => etcd.destroy(),
    stopSync: () => {
      for (const member of etcd.members) signalPid(member.pid, 'SIGKILL');
      rmSync(etcd.dir, { recursive: true, force: true, maxRetries: 3 });
    },
  });
  return etcd;
}

export class HaRig extends RigOf(HaFleet) {
  /**
   * `count` controllers c1, c2… on `etcd` and agents given every controller's URL. Every agent's
   * token is written before any controller starts, so that each reads them all at once and no agent
   * is refused by the controller its rendezvous hash picks. Requests go to the leader's URL.
   */
  static async start(cluster, etcd, { count = 3, agents = ['app1', 'app2'], monitor = {}, leaseTtl = '3s', retryTimeout = '1s' } = {}) {
    const rig = new HaRig(cluster, await HaFleet.makeDir('pullover-ha-rig-'));
    rig.untrack = track({ stop: () => rig.stop(), stopSync: () => rig.destroySync() });
    const spec = await rig.controllerSpec({ ...DEFAULT_MONITOR, ...monitor }, []);
    await rig.configureControllers(spec, { endpoints: etcd.endpoints, prefix: '/pullover-demo/', leaseTtl, retryTimeout }, count);
    for (const name of agents) await rig.writeRigAgent(name, rig.urls);
    await Promise.all(rig.ports.map((_, i) => rig.startControllerAt(i)));
    rig.use((await rig.waitLeader(15_000)).index);
    for (const agent of rig.agents) await rig.startAgent(agent);
    return rig;
  }

  nameOf(index) {
    return `c${index + 1}`;
  }

  /** Agent name → the controller it polls while every controller answers: the one its name ranks first. */
  placement() {
    const urls = this.urls.map((url) => ({ url }));
    return new Map(this.agents.map((a) => [a.name, this.nameOf(urls.indexOf(rankControllers(a.name, urls)[0]))]));
  }

  /**
   * A killMaster source: once a controller other than `old` says it leads, emits {kind: 'leader',
   * name, term, at}, `at` when it took up the state and could act (its event log's "leads term"
   * line), else when the poll saw it.
   */
  watchLeader(old) {
    return (emit) => {
      let busy = false;
      const timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        try {
          const leader = await this.leader();
          if (leader && leader.name !== old) {
            clearInterval(timer);
            emit({ kind: 'leader', ...leader, at: (await this.#tookOver(leader).catch(() => undefined)) ?? Date.now() });
          }
        } catch {
          // a controller going away mid-answer: the next poll tells
        } finally {
          busy = false;
        }
      }, 50);
      this.watchers.push(() => clearInterval(timer));
    };
  }

  async #tookOver(leader) {
    const url = `${this.urls[leader.index]}/v1/events?wait=0`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${this.adminToken}` } }).catch(() => undefined);
    const { events = [] } = response?.ok ? await response.json() : {};
    const line = events.findLast((e) => e.message.includes(`leads term ${leader.term} `));
    return line ? Date.parse(line.at) : undefined;
  }
}
