// A server cut off by the network, as a pulled cable does it: every packet to or from its loopback
// address is dropped, so a connect hangs (no RST, no ICMP) and open connections go silent. Needs
// root. This kernel has no drop action (act_gact) nor netem; mirred is there: an ingress filter on
// `lo` redirects the packets to a veth that is kept down, which drops them.
import { ip, quietly, tc } from './net-commands.js';

const cuts = new Map<string, NetworkCut>();
let hooked = false;

/** The filters and the veth of one address; their names derive from it, so a leftover can be found. */
export class NetworkCut {
  readonly #prefs: [number, number];
  readonly #veth: string;
  #addedQdisc = false;

  constructor(readonly address: string) {
    const [a, b, id, n] = address.split('.').map(Number);
    if (a !== 127 || b !== 0 || !(id! >= 1 && id! <= 254) || !(n! >= 1 && n! <= 7)) {
      throw new Error(`only 127.0.<id>.<1..7> addresses can be cut off, not ${address}`);
    }
    const pref = 49152 + (id! * 8 + n!) * 2;
    this.#prefs = [pref, pref + 1];
    this.#veth = `pcut${id}x${n}`;
  }

  get isCut(): boolean {
    return cuts.get(this.address) === this;
  }

  /** Drops every packet to or from the address until heal(); a leftover of a killed run is removed first. */
  cut(): void {
    if (this.isCut) return;
    this.#removeRules();
    if (!tc('qdisc', 'show', 'dev', 'lo').includes('ingress')) {
      tc('qdisc', 'add', 'dev', 'lo', 'ingress');
      this.#addedQdisc = true;
    }
    cuts.set(this.address, this);
    hookExit();
    ip('link', 'add', this.#veth, 'type', 'veth', 'peer', 'name', `${this.#veth}p`);
    const [dst, src] = this.#prefs;
    for (const [pref, field] of [[dst, 'dst'], [src, 'src']] as const) {
      tc('filter', 'add', 'dev', 'lo', 'ingress', 'pref', String(pref), 'protocol', 'ip', 'u32', 'match', 'ip', field,
        `${this.address}/32`, 'action', 'mirred', 'egress', 'redirect', 'dev', this.#veth);
    }
  }

  /** Removes exactly the rules cut() added (and the ingress qdisc if cut() created it and nothing else uses it). */
  heal(): void {
    this.#removeRules();
    if (this.#addedQdisc && !tc('filter', 'show', 'dev', 'lo', 'ingress').trim()) {
      quietly(tc, 'qdisc', 'del', 'dev', 'lo', 'ingress');
    }
    this.#addedQdisc = false;
    if (cuts.get(this.address) === this) cuts.delete(this.address);
  }

  #removeRules(): void {
    for (const pref of this.#prefs) quietly(tc, 'filter', 'del', 'dev', 'lo', 'ingress', 'pref', String(pref));
    quietly(ip, 'link', 'del', this.#veth);
  }
}

// Whatever ends this process, no address stays cut off.
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const cut of [...cuts.values()]) cut.heal();
  });
}
