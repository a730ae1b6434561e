import type { ClusterConfig, ServerConfig } from '../config/load.js';
import type { PublishedCluster } from './schema.js';

/** The first start's master: `master:` when set, else the first server listed. */
export function initialMaster(cluster: ClusterConfig): ServerConfig {
  const name = cluster.master ?? cluster.servers[0]?.name;
  const server = cluster.servers.find((s) => s.name === name);
  // The config rules guarantee it; a failure here is a bug, not an operator's mistake.
  if (!server) throw new Error(`cluster ${cluster.name} has no server ${name}`);
  return server;
}

/** What the cluster's hostnames map to when `server` is its master. */
export function publishedCluster(cluster: ClusterConfig, server: ServerConfig): PublishedCluster {
  return {
    master: server.name,
    address: server.address,
    port: cluster.mysql.port,
    hostnames: [...cluster.master_hostnames],
  };
}

/** "mysql-master.myservice.com now → mysql2 (200.200.200.2)" */
export function describeTarget(published: PublishedCluster): string {
  return `${published.hostnames.join(', ')} now → ${published.master} (${published.address})`;
}

/** What differs between two publications of one cluster, or undefined when nothing does. */
export function describeChange(before: PublishedCluster, after: PublishedCluster): string | undefined {
  const changes: string[] = [];
  if (before.master !== after.master) changes.push(`master ${before.master} → ${after.master}`);
  if (before.address !== after.address) {
    changes.push(`${after.master}'s address ${before.address} → ${after.address}`);
  }
  if (before.port !== after.port) changes.push(`port ${before.port} → ${after.port}`);
  if (before.hostnames.join(',') !== after.hostnames.join(',')) {
    changes.push(`hostnames ${before.hostnames.join(', ')} → ${after.hostnames.join(', ')}`);
  }
  return changes.length > 0 ? changes.join('; ') : undefined;
}
