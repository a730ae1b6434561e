// @pullover/sandbox: real MariaDB clusters on loopback addresses (127.0.<id>.1..3), every mariadbd
// started and stopped by its PID, and an application writing through a hosts file.
export { Cluster, type ClusterOptions, startCluster, waitReplicaCaughtUp } from './cluster.js';
export {
  type ConnectOptions,
  type Credentials,
  type Login,
  MARIADBD,
  type QueryOptions,
  type SlaveStatus,
  Server,
} from './server.js';
export { eventually, eventually as waitFor } from './wait.js';
export { type AcknowledgedWrite, addressIn, HostnameWriter, type WriterOptions } from './writer.js';
