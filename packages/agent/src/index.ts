export { type ApplyOutcome, PulloverAgent } from './agent.js';
export { backoffDelay } from './backoff.js';
export { ControllerClient } from './client.js';
export { type AgentConfig, AgentConfigSchema, loadAgentConfig } from './config.js';
export * from './errors.js';
export { probeGreeting, readGreeting } from './probe.js';
export { createAgent, createLogger } from './setup.js';
export { StateFile } from './state.js';
export { AGENT_VERSION } from './version.js';
