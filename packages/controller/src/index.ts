export { type AgentRecord, AgentRegistry, MAX_AGENTS } from './agents/registry.js';
export { AdminClient } from './cli/client.js';
export { formatStatus } from './cli/status-table.js';
export { type Endpoint, resolveEndpoint } from './cli/endpoint.js';
export { clientHost, formatHostPort, type ListenAddress, parseListen } from './config/listen.js';
export {
  type ClusterConfig,
  type ControllerConfig,
  type LoadedConfig,
  loadConfig,
  parseConfig,
  parseConfigText,
  readConfigFile,
  type Secrets,
  type ServerConfig,
} from './config/load.js';
export {
  type Controller,
  type ControllerOptions,
  openController,
  type RunningController,
  startController,
} from './controller.js';
export * from './errors.js';
export { buildApp } from './http/app.js';
export type { AppDeps } from './http/deps.js';
export { type Access, TokenAuth } from './http/auth.js';
export { mappingOf } from './mapping/build.js';
export { MappingPublisher, type Published } from './mapping/publisher.js';
export { FileStore } from './state/file-store.js';
export { type SetMasterOutcome, StateKeeper } from './state/keeper.js';
export { type Reconciled, reconcile } from './state/reconcile.js';
export { ControllerState, HISTORY_LIMIT, type HistoryEntry, type PublishedCluster } from './state/schema.js';
export type { Store } from './state/store.js';
