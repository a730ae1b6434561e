import { isIPv4 } from 'node:net';
import type { MhaFile } from './mha-ini.js';

// The controller.yaml text of an import, with a comment on each line that came from MHA or stands
// in for something MHA did. Pure formatting: every decision is in the plan.

export const PASSWORD_FILE = '/etc/pullover/mysql-password';
export const REPL_PASSWORD_FILE = '/etc/pullover/repl-password';

export interface ImportOptions {
  readonly cluster: string;
  readonly hostnames: readonly string[];
}

export interface PlannedServer {
  readonly name: string;
  readonly address: string;
  /** Where it came from, and what the operator must replace. */
  readonly comment: string;
  readonly candidate: boolean;
  readonly noMaster: boolean;
}

/** What the YAML says, decided from the MHA settings. Undefined: pullover's default, explained. */
export interface ImportPlan {
  readonly servers: readonly PlannedServer[];
  readonly master: string;
  readonly port: number;
  readonly user: string;
  /** Empty when MHA had none. */
  readonly replUser: string;
  readonly interval: string | undefined;
  readonly ping: string;
  /** ping_type was set, rather than MHA's default. */
  readonly pingSet: boolean;
  readonly minInterval: string | undefined;
  readonly failoverScript: string | undefined;
  readonly shutdownScript: string | undefined;
  readonly reportScript: string | undefined;
}

/** YAML plain scalar when that reads back as the same string, else a double-quoted one. */
function scalar(value: string): string {
  const plain = isIPv4(value)
    || (/^[A-Za-z_/][\w./@-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value));
  return plain ? value : JSON.stringify(value);
}

export function renderYaml(files: readonly MhaFile[], options: ImportOptions, plan: ImportPlan): string {
  const { user, replUser, interval, ping, minInterval } = plan;
  const serverLines = plan.servers.map((s) => {
    const flags = `${s.candidate ? ', candidate: true' : ''}${s.noMaster ? ', no_master: true' : ''}`;
    return `      - { name: ${scalar(s.name)}, address: ${scalar(s.address)}${flags} } # ${s.comment}`;
  });
  const lines = [
    '# controller.yaml written by `pullover-controller import-mha` from (later files override earlier ones):',
    ...files.map((f) => `#   ${f.file}`),
    '# Read the notes it printed, fix every line marked REPLACE, put the secrets in their files, then run',
    '# `pullover-controller check --config THIS_FILE`. examples/controller.yaml explains every key.',
    'listen: 0.0.0.0:7420',
    'state_dir: /var/lib/pullover',
    'auth:',
    '  # One token per line (`openssl rand -base64 24`); each agent gets one agent token in its agent.yaml.',
    '  agent_tokens_file: /etc/pullover/agent-tokens',
    '  admin_tokens_file: /etc/pullover/admin-tokens',
    'clusters:',
    `  - name: ${options.cluster}`,
    `    master_hostnames: [${options.hostnames.join(', ')}] # the agents point these at the master in /etc/hosts`,
    '    # MHA finds the master when it starts; pullover reads this key at its very first start only. Here: the',
    '    # first server without no_master=1. Make sure it is the master today (`check` tells).',
    `    master: ${scalar(plan.master)}`,
    '    mysql:',
    `      port: ${plan.port}`,
    `      user: ${scalar(user)}${user === 'root' ? ' # MHA\'s; a user with only the grants `check` lists is safer' : ''}`,
    `      password_file: ${PASSWORD_FILE} # MHA's password goes in this file (mode 0600), never here`,
    `      replication_user: ${scalar(replUser || 'repl')}${replUser ? '' : ' # REPLACE: MHA had no repl_user'}`,
    `      replication_password_file: ${REPL_PASSWORD_FILE}`,
    '    # The [serverN] sections in order. Names: a DNS hostname gives its first label (db1.example.com → db1),',
    '    # an address gives mysqlN. candidate_master=1 → candidate, no_master=1 → no_master.',
    '    servers:',
    ...serverLines,
    '    monitor:',
    interval
      ? `      interval: ${interval} # ping_interval`
      : '      interval: 1s # MHA pinged every 3s; 1s is safe: a death needs the replicas and the agents to agree',
    '      timeout: 1s',
    `      ping: ${ping} # ${plan.pingSet ? 'ping_type' : 'MHA\'s default ping_type, SELECT'}`
    + (ping === 'insert' ? ' (writes pullover.heartbeat, not infra.chk_masterha)' : ''),
    '      failures: 3 # like MHA: dead after 3 failed pings',
    '    failover:',
    minInterval
      ? `      min_interval: ${minInterval} # last_failover_minute; \`pullover-controller ack\` lifts it`
      : '      min_interval: 8h # MHA\'s last_failover_minute default, 480; `pullover-controller ack` lifts it',
  ];
  const { failoverScript, shutdownScript, reportScript } = plan;
  if (failoverScript) {
    lines.push(`      mha_failover_script: ${scalar(failoverScript)} # master_ip_failover_script: still needed? see the notes`);
  }
  if (shutdownScript) lines.push(`      # fence_command: ${scalar(shutdownScript)} # shutdown_script, once adapted`);
  if (reportScript) lines.push('      # hooks:', `      #   after: ${scalar(reportScript)} # report_script, once adapted`);
  return `${lines.join('\n')}\n`;
}
