import { UnknownCluster, UnknownServer } from '../errors.js';
import type { ClusterConfig, ControllerConfig, ServerConfig } from './load.js';

/** The cluster named `name`; UnknownCluster (listing the known ones) otherwise. */
export function clusterNamed(config: ControllerConfig, name: string): ClusterConfig {
  const cluster = config.clusters.find((c) => c.name === name);
  if (!cluster) throw new UnknownCluster(name, config.clusters.map((c) => c.name));
  return cluster;
}

/** The cluster's server named `name`; UnknownServer (listing the cluster's) otherwise. */
export function serverNamed(cluster: ClusterConfig, name: string): ServerConfig {
  const server = cluster.servers.find((s) => s.name === name);
  if (!server) throw new UnknownServer(cluster.name, name, cluster.servers.map((s) => s.name));
  return server;
}
