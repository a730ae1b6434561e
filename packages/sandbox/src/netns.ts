// Servers as real hosts: every mariadbd in a network namespace of its own, joined by a veth pair to
// a bridge in the root namespace, on 10.200.<id>.0/24. The root namespace (controller, agents, the
// test itself) has addresses on that bridge too, so it reaches every server and they reach each
// other; faults then act on a server's own link (PacketDrop) instead of on the shared `lo`.
// Every name derives from the cluster id, so what a killed run left is found and removed by the
// next start of that id. Needs root.
import { existsSync } from 'node:fs';
import { onExitSync } from './exit.js';
import { ip, quietly } from './net-commands.js';

/** How many root-namespace addresses besides the main one: vantage points a test can put on either side of a partition. */
const SPARE_ADDRESSES = 3;

export class NetnsLayout {
  /** The root namespace's main address on the bridge: the source of every connection that names none. */
  readonly rootAddress: string;
  /** More root-namespace addresses (.251–.253), for a client that must stand apart (mysql2's `localAddress`). */
  readonly spareAddresses: readonly string[];
  readonly bridge: string;
  /** A veth kept down: packets redirected to it are dropped (this kernel has no tc drop action). */
  readonly dropDevice: string;
  #cancelExitHook: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly servers = 3,
  ) {
    if (!Number.isInteger(id) || id < 1 || id > 254) throw new Error(`cluster id ${id} must be 1..254`);
    this.rootAddress = `10.200.${id}.254`;
    this.spareAddresses = Array.from({ length: SPARE_ADDRESSES }, (_, i) => `10.200.${id}.${251 + i}`);
    this.bridge = `pobr${id}`;
    this.dropDevice = `podrop${id}`;
  }

  /** The address of server `n` (1-based), the same inside its namespace and on the bridge. */
  address(n: number): string {
    return `10.200.${this.id}.${n}`;
  }

  /** The `ip netns` name of server `n`. */
  namespace(n: number): string {
    return `pullover-${this.id}-${n}`;
  }

  /** Server `n`'s end of its veth pair, in the root namespace, on the bridge: where its packets are filtered. */
  port(n: number): string {
    return `pov${this.id}s${n}`;
  }

  /** The number of the server at `address`, or undefined for a root-namespace address. */
  serverAt(address: string): number | undefined {
    const n = this.#numbers().find((i) => this.address(i) === address);
    return n;
  }

  /** Creates the bridge, the namespaces and their links, after removing what a killed run of this id left. */
  create(): void {
    this.destroy();
    this.#cancelExitHook = onExitSync(() => this.destroy());
    try {
      ip('link', 'add', this.bridge, 'type', 'bridge', 'forward_delay', '0');
      // IPv6 would only add router solicitations and duplicate-address probes to the picture.
      ip('link', 'set', this.bridge, 'addrgenmode', 'none');
      for (const address of [this.rootAddress, ...this.spareAddresses]) ip('addr', 'add', `${address}/24`, 'dev', this.bridge);
      ip('link', 'set', this.bridge, 'up');
      ip('link', 'add', this.dropDevice, 'type', 'veth', 'peer', 'name', `${this.dropDevice}p`);
      for (const n of this.#numbers()) this.#createHost(n);
    } catch (err) {
      this.destroy();
      throw new Error(`cluster ${this.id}: could not set up the netns layout: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Removes every link and namespace of this id; safe to repeat and when nothing exists. */
  destroy(): void {
    // Links first: a namespace whose mariadbd is still dying outlives its name, its veth does not.
    for (const dev of [...this.#numbers().map((n) => this.port(n)), this.dropDevice, this.bridge]) {
      if (existsSync(`/sys/class/net/${dev}`)) quietly(ip, 'link', 'del', dev);
    }
    for (const n of this.#numbers()) {
      if (existsSync(`/run/netns/${this.namespace(n)}`)) quietly(ip, 'netns', 'del', this.namespace(n));
    }
    this.#cancelExitHook?.();
    this.#cancelExitHook = undefined;
  }

  #createHost(n: number): void {
    const ns = this.namespace(n);
    ip('netns', 'add', ns);
    ip('link', 'add', this.port(n), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('link', 'set', this.port(n), 'addrgenmode', 'none');
    ip('link', 'set', this.port(n), 'master', this.bridge, 'up');
    ip('-n', ns, 'link', 'set', 'eth0', 'addrgenmode', 'none');
    ip('-n', ns, 'addr', 'add', `${this.address(n)}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }

  #numbers(): number[] {
    return Array.from({ length: this.servers }, (_, i) => i + 1);
  }
}
