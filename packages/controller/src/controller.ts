import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AgentRegistry } from './agents/registry.js';
import { clientHost, formatHostPort, type ListenAddress } from './config/listen.js';
import type { LoadedConfig } from './config/load.js';
import { tokenWarnings, watchAgentTokens } from './config/tokens.js';
import { buildApp } from './http/app.js';
import { TokenAuth } from './http/auth.js';
import type { LogLine } from './log-line.js';
import { createLogSink, type LogOptions } from './log-sink.js';
import { mappingOf } from './mapping/build.js';
import { MappingPublisher } from './mapping/publisher.js';
import { type Authority, SOLE_AUTHORITY } from './ha/authority.js';
import { EtcdRole } from './ha/etcd-role.js';
import { FileStore } from './state/file-store.js';
import { StateKeeper } from './state/keeper.js';
import { ClusterMonitors } from './monitor/cluster-monitors.js';
import { reconcile } from './state/reconcile.js';
import type { Store } from './state/store.js';

/** How long close() waits for connections to end by themselves before it cuts them. */
const CLOSE_GRACE_MS = 3000;

export interface ControllerOptions {
  /** Default: a FileStore in the config's state_dir. */
  readonly store?: Store;
  /** Default: info level, JSON lines on stdout. */
  readonly logger?: LogOptions;
  readonly now?: () => Date;
}

export interface Controller {
  readonly app: FastifyInstance;
  /** Whether it may act: always alone; on etcd, while it leads. */
  readonly authority: Authority;
  /** On etcd: this controller among the others. */
  readonly role: EtcdRole | undefined;
  /** The journal and the event log. */
  readonly say: (line: LogLine) => void;
  readonly auth: TokenAuth;
  readonly keeper: StateKeeper;
  readonly publisher: MappingPublisher;
  readonly registry: AgentRegistry;
  readonly store: Store;
  readonly monitors: ClusterMonitors;
}

export interface RunningController extends Controller {
  /** Where a local client reaches it, e.g. "https://127.0.0.1:7420". */
  readonly url: string;
  /** Answers parked polls with 503, stops listening, closes idle connections. */
  close(): Promise<void>;
}

/**
 * Loads and reconciles the state, then builds the app without listening. Throws StateError when
 * the state dir cannot be trusted: serving a guessed master or version would be worse than not serving.
 */
export async function openController(
  config: LoadedConfig,
  options: ControllerOptions = {},
): Promise<Controller> {
  const now = options.now ?? (() => new Date());
  const etcd = config.store?.etcd;
  const role = etcd && !options.store ? new EtcdRole(config, etcd) : undefined;
  const store = options.store ?? role?.store ?? new FileStore(config.state_dir);
  const saved = await store.load();
  const { state, changed, log } = reconcile(saved, config, now(), store.location);
  // Saved even when unchanged: a state dir that cannot be written must fail now, not at the first set-master.
  // On etcd only the leader writes: until one is elected (maybe this one) the committed state is served.
  if (!role) await store.save(state);
  const publisher = new MappingPublisher(mappingOf(state));
  const authority: Authority = role ?? SOLE_AUTHORITY;
  const keeper = new StateKeeper(config, store, publisher, state, now, authority);
  const registry = new AgentRegistry();
  const sink = createLogSink(options.logger ?? { level: 'info' }, now);
  for (const line of log) sink.say(line);
  for (const warning of tokenWarnings(config.secrets.agent_tokens)) sink.logger.warn(warning);
  if (!changed) sink.logger.info(`resumed from ${store.location} at version ${state.version}`);
  // The polls parked here; on etcd, the leader's ask ends those parked on the other controllers too.
  const askAgents = (cluster: string, master: string) => {
    role?.askAgents(cluster, master);
    return publisher.askForReports();
  };
  const monitors = new ClusterMonitors(config, keeper, registry, askAgents, sink.say, now, authority);
  const auth = new TokenAuth({
    agents: config.secrets.agent_tokens,
    admin: config.secrets.admin_tokens,
    viewer: config.secrets.viewer_tokens,
  });
  const app = buildApp({
    monitors,
    keeper,
    publisher,
    registry,
    auth,
    authority,
    ...(role ? { role } : {}),
    https: config.secrets.tls,
    now,
    sink,
  });
  return { app, auth, authority, role, keeper, publisher, registry, store, monitors, say: sink.say };
}

/** openController, then listen on the config's `listen` (or `listen` given here, e.g. port 0 in tests). */
export async function startController(
  config: LoadedConfig,
  options: ControllerOptions & { readonly listen?: ListenAddress } = {},
): Promise<RunningController> {
  // A second controller on the same state dir would act on the same MySQL servers: refused before
  // it reads the state. The kernel lock ends with the process, however it ends.
  const files = options.store || config.store?.etcd ? undefined : new FileStore(config.state_dir);
  const lock = await files?.lock();
  const opened = openController(config, files ? { ...options, store: files } : options);
  const controller = await opened.catch(async (error: unknown) => {
    await lock?.release();
    throw error;
  });
  const { app } = controller;
  if (!config.secrets.tls) {
    app.log.warn(
      `${config.source} has no tls section: serving plain HTTP, so bearer tokens travel in clear; set tls.cert_file and tls.key_file`,
    );
  }
  const listen = options.listen ?? config.listen;
  // A fleet reconnecting at once (a controller restart under 10,000 agents) overflowed Node's
  // default backlog of 511: the kernel dropped their SYNs and they waited out its retransmissions.
  // The kernel caps it at net.core.somaxconn (4096 on Debian 12).
  await app.listen({ host: listen.host, port: listen.port, backlog: 16_384 });
  const { port } = app.server.address() as AddressInfo;
  const url = `${config.secrets.tls ? 'https' : 'http'}://${formatHostPort(clientHost(listen.host), port)}`;
  controller.monitors.start();
  const { keeper, monitors, publisher, registry, say } = controller;
  const now = options.now ?? (() => new Date());
  controller.role?.start({ url, keeper, monitors, publisher, registry, now, log: say });
  const unwatch = watchAgentTokens(config.auth.agent_tokens_file, ({ tokens, problems }) => {
    if (problems.length > 0) {
      app.log.warn(`${tokens.file} changed but is refused, the agent tokens read before stay: ${problems.join('; ')}`);
      return;
    }
    controller.auth.replaceAgents(tokens);
    app.log.info(`${tokens.file} read again: ${tokens.lines.length} agent token(s)`);
    for (const warning of tokenWarnings(tokens)) app.log.warn(warning);
  });
  app.log.info(
    `serving version ${controller.publisher.version} of ${config.clusters.map((c) => c.name).join(', ')} on ${formatHostPort(listen.host, port)}`,
  );
  return {
    ...controller,
    url,
    close: async () => {
      unwatch();
      controller.monitors.stop();
      await controller.role?.stop();
      // Parked polls are answered at once (preClose); a connection that never sent a request (a
      // leftover of a start-up rush, its client long gone) would hold close() forever: cut after a grace.
      const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      await app.close().finally(() => clearTimeout(cut));
      await lock?.release();
    },
  };
}
