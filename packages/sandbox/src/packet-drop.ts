// Silent packet loss on the netns layout, as a black-holed host or a partitioned network shows it:
// a connect hangs (no RST, no ICMP), open connections go silent, nothing is refused and no link goes
// down (a down link fails fast with ENETUNREACH, which a failover detector would find too easy).
// IP only: ARP still answers, as the switch and the NIC of a hung host do. The filters sit on the
// servers' own veth ports in the root namespace (ingress: what the server sends; egress: what it
// is sent) and redirect to the layout's down veth, since this kernel has no drop action (act_gact).
import { type NetnsLayout } from './netns.js';
import { quietly, tc } from './net-commands.js';

type Direction = 'ingress' | 'egress';

/** One fault at a time on a layout: heal() removes every filter of every server's port. */
export class PacketDrop {
  readonly #ports = new Set<string>();

  constructor(private readonly layout: NetnsLayout) {}

  get isActive(): boolean {
    return this.#ports.size > 0;
  }

  /** Every IP packet to or from the server at `address` is dropped until heal(). */
  blackhole(address: string): void {
    const n = this.#server(address);
    this.#drop(n, 'ingress', []);
    this.#drop(n, 'egress', []);
  }

  /**
   * Every IP packet between a server of `side` and an address of `other` (and between an address of
   * `side` and a server of `other`) is dropped, both ways, until heal(); any other pair still talks.
   * Root-namespace addresses on both sides still reach each other: they are one host.
   */
  partition(side: readonly string[], other: readonly string[]): void {
    for (const [mine, theirs] of [[side, other], [other, side]] as const) {
      for (const address of mine) {
        const n = this.layout.serverAt(address);
        if (n === undefined) continue;
        for (const peer of theirs) {
          this.#drop(n, 'ingress', ['dst', peer]);
          this.#drop(n, 'egress', ['src', peer]);
        }
      }
    }
  }

  /** Removes every filter; open connections resume (TCP retransmits what was lost meanwhile). */
  heal(): void {
    for (let n = 1; n <= this.layout.servers; n++) quietly(tc, 'qdisc', 'del', 'dev', this.layout.port(n), 'clsact');
    this.#ports.clear();
  }

  #server(address: string): number {
    const n = this.layout.serverAt(address);
    if (n === undefined) throw new Error(`${address} is not a server of cluster ${this.layout.id}`);
    return n;
  }

  /** `match`: [field, address] for one peer's packets, [] for all of them. */
  #drop(n: number, direction: Direction, match: [] | ['src' | 'dst', string]): void {
    const port = this.layout.port(n);
    if (!this.#ports.has(port)) {
      tc('qdisc', 'add', 'dev', port, 'clsact');
      this.#ports.add(port);
    }
    const selector = match.length === 0 ? ['u32', '0', '0'] : ['ip', match[0], `${match[1]}/32`];
    tc('filter', 'add', 'dev', port, direction, 'protocol', 'ip', 'u32', 'match', ...selector,
      'action', 'mirred', 'egress', 'redirect', 'dev', this.layout.dropDevice);
  }
}
