import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { type DeepReadonly, deepFreeze, issueLines, missingKeyMessage, parseYaml } from '@pullover/protocol';
import { ConfigError, describeCause } from '../errors.js';
import { ControllerSchema, type ControllerSchemaOutput } from './schema.js';
import { type AgentTokens, readAgentTokens, readTokens } from './tokens.js';

/** controller.yaml, validated, durations in milliseconds, relative paths resolved; frozen. */
export type ControllerConfig = DeepReadonly<ControllerSchemaOutput & { source: string }>;
export type ClusterConfig = ControllerConfig['clusters'][number];
export type ServerConfig = ClusterConfig['servers'][number];

/** What the config's files hold. Kept apart from the keys so that logging a config never logs a secret. */
export interface Secrets {
  /** Each agent's token by name; bare lines (the first format) speak for no name in particular. */
  readonly agent_tokens: AgentTokens;
  readonly admin_tokens: readonly string[];
  /** Empty without auth.viewer_tokens_file. */
  readonly viewer_tokens: readonly string[];
  readonly tls?: { readonly cert: string; readonly key: string };
  /** store.etcd's PEM files, read. */
  readonly etcd_tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Per cluster: the monitoring user's and the replication user's passwords. */
  readonly mysql: Readonly<Record<string, { readonly password: string; readonly replication_password: string }>>;
}

export type LoadedConfig = ControllerConfig & { readonly secrets: Secrets };

/**
 * Validates an already-parsed config document. `source` names it in every error; relative paths
 * are resolved against `baseDir` (the config file's directory: systemd starts services in /).
 */
export function parseConfig(input: unknown, source: string, baseDir = dirname(source)): ControllerConfig {
  const result = ControllerSchema.safeParse(input, { error: missingKeyMessage });
  if (!result.success) throw new ConfigError(issueLines(result.error.issues, source));
  const config = result.data;
  const at = (path: string) => resolve(baseDir, path);
  config.state_dir = at(config.state_dir);
  config.auth.agent_tokens_file = at(config.auth.agent_tokens_file);
  config.auth.admin_tokens_file = at(config.auth.admin_tokens_file);
  if (config.auth.viewer_tokens_file !== undefined) config.auth.viewer_tokens_file = at(config.auth.viewer_tokens_file);
  if (config.tls) config.tls = { cert_file: at(config.tls.cert_file), key_file: at(config.tls.key_file) };
  const etcd = config.store?.etcd;
  if (etcd) {
    for (const key of ['ca_file', 'cert_file', 'key_file'] as const) {
      const file = etcd[key];
      if (file !== undefined) etcd[key] = at(file);
    }
  }
  for (const cluster of config.clusters) {
    cluster.mysql.password_file = at(cluster.mysql.password_file);
    cluster.mysql.replication_password_file = at(cluster.mysql.replication_password_file);
  }
  return deepFreeze({ source, ...config });
}

/** Parses YAML text; syntax errors name the file, line and column. */
export function parseConfigText(text: string, source: string, baseDir = dirname(source)): ControllerConfig {
  const parsed = parseYaml(text, source);
  if (parsed.problems) throw new ConfigError(parsed.problems);
  return parseConfig(parsed.value, source, baseDir);
}

/** Reads and validates controller.yaml alone, without the files it names (the admin CLI needs only some). */
export async function readConfigFile(file: string): Promise<ControllerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: cannot read the config: ${describeCause(error)}`]);
  }
  return parseConfigText(text, file);
}

/** Reads and validates controller.yaml and the token and TLS files it names; every problem at once. */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  const config = await readConfigFile(file);
  const secrets = await loadSecrets(config);
  return deepFreeze({ ...config, secrets });
}

async function loadSecrets(config: ControllerConfig): Promise<Secrets> {
  const problems: string[] = [];
  const agent = await readAgentTokens(config.auth.agent_tokens_file);
  const admin = await readTokens(config.auth.admin_tokens_file);
  problems.push(...agent.problems.map((p) => `${config.source}: auth.agent_tokens_file: ${p}`));
  problems.push(...admin.problems.map((p) => `${config.source}: auth.admin_tokens_file: ${p}`));
  const viewerFile = config.auth.viewer_tokens_file;
  const viewer = viewerFile === undefined ? { tokens: [], problems: [] } : await readTokens(viewerFile);
  problems.push(...viewer.problems.map((p) => `${config.source}: auth.viewer_tokens_file: ${p}`));
  let tls: Secrets['tls'];
  if (config.tls) {
    const [cert, key] = await Promise.all([
      readOrNote(config.tls.cert_file, `${config.source}: tls.cert_file`, problems),
      readOrNote(config.tls.key_file, `${config.source}: tls.key_file`, problems),
    ]);
    if (cert !== undefined && key !== undefined) {
      try {
        // Fail at start, not at the first handshake: a mismatched pair would let the daemon run deaf.
        createSecureContext({ cert, key });
        tls = { cert, key };
      } catch (error) {
        problems.push(
          `${config.source}: tls: ${config.tls.cert_file} and ${config.tls.key_file} are not a matching PEM certificate and key: ${describeCause(error)}`,
        );
      }
    }
  }
  const etcdTls = await readEtcdTls(config, problems);
  const mysql: Record<string, { password: string; replication_password: string }> = {};
  for (const [i, cluster] of config.clusters.entries()) {
    const where = `${config.source}: clusters.${i}.mysql`;
    const password = await readOrNote(cluster.mysql.password_file, `${where}.password_file`, problems);
    const replication = await readOrNote(
      cluster.mysql.replication_password_file,
      `${where}.replication_password_file`,
      problems,
    );
    // One trailing newline is how editors save files; it is not part of the password.
    if (password !== undefined && replication !== undefined) {
      mysql[cluster.name] = { password: chomp(password), replication_password: chomp(replication) };
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    agent_tokens: agent.tokens,
    admin_tokens: admin.tokens,
    viewer_tokens: viewer.tokens,
    mysql,
    ...(tls ? { tls } : {}),
    ...(etcdTls ? { etcd_tls: etcdTls } : {}),
  };
}

async function readEtcdTls(config: ControllerConfig, problems: string[]): Promise<Secrets['etcd_tls']> {
  const etcd = config.store?.etcd;
  if (!etcd) return undefined;
  const read = (key: 'ca_file' | 'cert_file' | 'key_file') => {
    const file = etcd[key];
    return file === undefined ? undefined : readOrNote(file, `${config.source}: store.etcd.${key}`, problems);
  };
  const [ca, cert, key] = await Promise.all([read('ca_file'), read('cert_file'), read('key_file')]);
  if (ca === undefined && cert === undefined) return undefined;
  const pems = Object.entries({ ca, cert, key }).filter(([, pem]) => pem !== undefined);
  return Object.fromEntries(pems) as NonNullable<Secrets['etcd_tls']>;
}

async function readOrNote(file: string, where: string, problems: string[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    problems.push(`${where}: cannot read ${file}: ${describeCause(error)}`);
    return undefined;
  }
}

function chomp(text: string): string {
  return text.replace(/\r?\n$/, '');
}
