// @pullover/sandbox: real MariaDB clusters on loopback addresses (127.0.<id>.1..3) or each server in
// a network namespace of its own (10.200.<id>.1..3), every mariadbd started and stopped by its PID,
// and an application writing through a hosts file; etcd clusters likewise (127.0.<id>.1..3).
export { Cluster, type ClusterOptions, startCluster, waitReplicaCaughtUp } from './cluster.js';
export {
  type ConnectOptions,
  type Credentials,
  type Login,
  MARIADBD,
  PRODUCTION_SEMISYNC_TIMEOUT_MS,
  type QueryOptions,
  type Semisync,
  type SlaveStatus,
  Server,
} from './server.js';
export { eventually, eventually as waitFor } from './wait.js';
export { type AcknowledgedWrite, addressIn, HostnameWriter, type WriteAttempt, type WriteOutcome, type WriterOptions } from './writer.js';
export { NetworkCut } from './netcut.js';
export { NetnsLayout } from './netns.js';
export { PacketDrop } from './packet-drop.js';
export {
  type ReadOnlySample,
  ReadOnlySampler,
  type TwoWritableWindow,
  twoWritableWindows,
  type WritableState,
} from './sampler.js';
export { check, type Invariant, parseGtidState, type Verdict, type Violation } from './nemesis/checker.js';
export type { FailoverSummary, FinalServer, FinalState, RunHistory, ServerIdentity } from './nemesis/history.js';
export { type Action, describeSchedule, drawSchedule, FAULT_KINDS, type FaultKind, type Schedule, type Step } from './nemesis/schedule.js';
export { ETCD, EtcdCluster, EtcdMember, type EtcdOptions, startEtcd } from './etcd.js';
export { type EtcdStoreSpec, HaFleet, type LeaderView } from './rig/ha-fleet.js';
export {
  type AgentHandle,
  type AgentOptions,
  type ControllerSpec,
  type MysqlSection,
  ProcessFleet,
  type ServerEntry,
} from './rig/fleet.js';
export { AGENT_CLI, CONTROLLER_CLI, freePort, Proc, REPO_ROOT, runCli, signalPid, startProcess } from './rig/process.js';
