import { DEFAULT, type Setting } from './mha-ini.js';

// What pullover says about each MHA setting it does not carry over, one note per setting, in the
// order of the files.

const NO_SSH = 'not needed: pullover uses no SSH and no MHA node tools on the MySQL servers; drop it';
const FLAT = 'no equivalent: every server listed replicates from the master and is repointed to the new one; '
  + 'leave replicas of replicas out of servers';

/** MHA settings that pullover has no key for, and what the operator does about each. */
const EXPLAINED: Readonly<Record<string, string>> = {
  ssh_user: NO_SSH, ssh_host: NO_SSH, ssh_ip: NO_SSH, ssh_port: NO_SSH, ssh_options: NO_SSH,
  ssh_connection_timeout: NO_SSH, skip_init_ssh_check: NO_SSH, remote_workdir: NO_SSH, client_bindir: NO_SSH,
  client_libdir: NO_SSH, master_pid_file: NO_SSH, disable_log_bin: NO_SSH,
  manager_workdir: 'not needed: state lives in state_dir, and there is no failover.complete file to delete '
    + '(`pullover-controller ack` lifts the post-failover block)',
  manager_log: 'not needed: the controller logs to stdout (journald under systemd)',
  master_binlog_dir: 'not needed: pullover does not copy binlog events off a dead master over SSH; '
    + 'use semi-sync replication so that no acknowledged write lives on the master alone',
  secondary_check_script: 'not needed: pullover confirms a dead master through the replicas and the agents '
    + 'on the app servers (what masterha_secondary_check was for); drop it',
  master_ip_online_change_script: 'no equivalent yet: `pullover-controller switchover` does not call it '
    + '(the agents move the hostname); if it does more (a VIP, DNS), run that by hand around a switchover',
  check_repl_delay: 'no equivalent: a candidate is preferred however far behind (like check_repl_delay=0), '
    + 'and the new master gets failover.catchup_timeout (60s) to apply its relay log',
  latest_priority: 'no equivalent: a candidate first, then the most advanced replica, then config order '
    + '(like latest_priority=1)',
  ignore_fail: 'not needed: a failover goes on with the replicas that answer and leaves out the others '
    + '(like ignore_fail=1 on every server)',
  multi_tier_slave: FLAT,
  use_gtid_auto_pos: 'not needed: pullover always repoints by GTID (MASTER_USE_GTID=slave_pos, '
    + 'MASTER_AUTO_POSITION=1); file/position replication is not supported',
  skip_reset_slave: 'no equivalent: the new master always gets RESET SLAVE ALL',
  check_repl_filter: 'no equivalent: make sure every server has the same replication filters',
  log_level: 'use `pullover-controller run --log-level LEVEL` instead',
  init_conf_load_script: 'no equivalent: write what it printed into the YAML and the password files',
};

const SERVER_KEYS = new Set(['hostname', 'ip', 'port', 'candidate_master', 'no_master', 'user', 'password',
  'repl_user', 'repl_password', 'ignore_fail', 'ssh_user', 'ssh_host', 'ssh_ip', 'ssh_port', 'ssh_options',
  'ssh_connection_timeout', 'skip_init_ssh_check', 'remote_workdir', 'master_binlog_dir', 'client_bindir',
  'client_libdir', 'master_pid_file', 'disable_log_bin', 'skip_reset_slave']);
const CLUSTER_KEYS = new Set(['ping_type', 'ping_interval', 'master_ip_failover_script', 'shutdown_script',
  'report_script', 'last_failover_minute']);

interface Note {
  readonly at: Setting | undefined;
  readonly text: string;
}

export class Notes {
  readonly list: Note[] = [];

  constructor(readonly lastFile: string) {}

  add(section: string, key: string, at: Setting | undefined, text: string): void {
    const where = at ? `${at.file}:${at.line}` : this.lastFile;
    this.list.push({ at, text: `${where}: [${section}]${key ? ` ${key}` : ''}: ${text}` });
  }

  sorted(): string[] {
    const rank = (n: Note) => (n.at ? n.at.order * 1e9 + n.at.line : Number.MAX_SAFE_INTEGER);
    return [...this.list].sort((a, b) => rank(a) - rank(b)).map((n) => n.text);
  }
}

/** Notes for the settings that have no key of their own in the YAML. */
export function noteKey(notes: Notes, section: string, key: string, at: Setting): void {
  const explained = EXPLAINED[key];
  if (explained !== undefined) {
    notes.add(section, key, at, explained);
  } else if (section !== DEFAULT && CLUSTER_KEYS.has(key)) {
    notes.add(section, key, at, 'not imported: pullover has one value per cluster; set it in [server default]');
  } else if (!SERVER_KEYS.has(key) && !CLUSTER_KEYS.has(key)) {
    notes.add(section, key, at, 'unknown MHA setting: not imported (check its spelling)');
  }
}
