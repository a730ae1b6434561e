import { isIPv4 } from 'node:net';
import { isAddress, isHostname } from '@pullover/protocol';
import { ConfigError } from '../errors.js';

// `pullover-controller import-mha`: MHA config files in, controller.yaml text and notes out. Pure:
// the CLI reads and writes the files. A password is never copied into the output or a note: the
// YAML names the file it belongs in, and the notes say so.

export interface MhaFile {
  readonly file: string;
  readonly text: string;
}

export interface ImportOptions {
  readonly cluster: string;
  readonly hostnames: readonly string[];
}

export interface MhaImport {
  readonly yaml: string;
  /** One line each: `file:line: [section] key: what to do`, in the order of the files. */
  readonly notes: readonly string[];
}

interface Setting {
  readonly value: string;
  readonly file: string;
  readonly line: number;
  readonly order: number;
}

type Section = Map<string, Setting>;

export const PASSWORD_FILE = '/etc/pullover/mysql-password';
export const REPL_PASSWORD_FILE = '/etc/pullover/repl-password';
const DEFAULT = 'server default';

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

/** MHA's INI dialect (Config::Tiny): `[section]`, `key=value`, whole-line `#`/`;` comments. */
export function parseMhaText(text: string, file: string, order = 0): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: Section | undefined;
  for (const [i, raw] of text.replace(/^\uFEFF/, '').split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([^\]]*?)\s*\]$/.exec(line);
    const pair = /^([^=]*?)\s*=\s*(.*)$/.exec(line);
    if (header?.[1]) {
      const name = header[1].toLowerCase();
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
    } else if (pair?.[1] && current) {
      // No inline comments: Config::Tiny keeps "#" inside a value, and passwords may hold one.
      current.set(pair[1].toLowerCase(), { value: pair[2] ?? '', file, line: i + 1, order });
    } else {
      // The line itself is not echoed: it may be a password missing its "=".
      const what = pair?.[1] ? 'a setting before any [section]' : 'expected [section], key=value or a # comment';
      throw new ConfigError([`${file}:${i + 1}: MHA config syntax: ${what}`]);
    }
  }
  return sections;
}

/** Later files override earlier ones key by key, like MHA's global file under the application file. */
function merge(files: readonly MhaFile[]): Map<string, Section> {
  const merged = new Map<string, Section>();
  for (const [order, { file, text }] of files.entries()) {
    for (const [name, section] of parseMhaText(text, file, order)) {
      const into = merged.get(name) ?? new Map<string, Setting>();
      // "report_script=" in the application file switches off the global file's: MHA reads "" as unset.
      for (const [key, setting] of section) {
        if (setting.value === '') into.delete(key);
        else into.set(key, setting);
      }
      merged.set(name, into);
    }
  }
  return merged;
}

interface Note {
  readonly at: Setting | undefined;
  readonly text: string;
}

class Notes {
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

interface Server {
  readonly section: string;
  readonly name: string;
  readonly address: string;
  readonly comment: string;
  readonly candidate: boolean;
  readonly noMaster: boolean;
  /** Its own section over [server default]. */
  readonly settings: Section;
  readonly own: Section;
}

/** Maps MHA config files (global first, application last) to controller.yaml text and the notes. */
export function importMha(files: readonly MhaFile[], options: ImportOptions): MhaImport {
  const sections = merge(files);
  const notes = new Notes(files.at(-1)?.file ?? '');
  const defaults = sections.get(DEFAULT) ?? new Map<string, Setting>();
  const serverSections = [...sections].filter(([name]) => name !== DEFAULT && name.startsWith('server'));
  for (const [name, section] of sections) {
    if (name === DEFAULT || name.startsWith('server')) continue;
    notes.add(name, '', [...section.values()][0], name.startsWith('binlog')
      ? 'binlog server: not imported (pullover reads no binlog servers; use semi-sync replication)'
      : 'unknown section: not imported');
  }
  if (serverSections.length === 0) {
    throw new ConfigError([`${files.map((f) => f.file).join(', ')}: no [server1]… section: no server to import`]);
  }
  for (const [key, at] of defaults) noteKey(notes, DEFAULT, key, at);
  const servers = mapServers(serverSections, defaults, notes);
  const master = servers.find((s) => !s.noMaster);
  if (!master) throw new ConfigError([`${notes.lastFile}: every server has no_master=1: none could be the master`]);
  const yaml = render(files, options, servers, master, defaults, notes);
  return { yaml, notes: notes.sorted() };
}

/** Notes for the settings that have no key of their own in the YAML. */
function noteKey(notes: Notes, section: string, key: string, at: Setting): void {
  const explained = EXPLAINED[key];
  if (explained !== undefined) {
    notes.add(section, key, at, explained);
  } else if (section !== DEFAULT && CLUSTER_KEYS.has(key)) {
    notes.add(section, key, at, 'not imported: pullover has one value per cluster; set it in [server default]');
  } else if (!SERVER_KEYS.has(key) && !CLUSTER_KEYS.has(key)) {
    notes.add(section, key, at, 'unknown MHA setting: not imported (check its spelling)');
  }
}

function flag(notes: Notes, server: string, key: string, at: Setting | undefined): boolean {
  if (at === undefined) return false;
  const on = at.value !== '0' && at.value !== '';
  if (at.value !== '0' && at.value !== '1') notes.add(server, key, at, `expected 0 or 1: taken as ${on ? 1 : 0}`);
  return on;
}

/**
 * A DNS hostname gives its first label (db1.example.com → db1; the whole name when two servers share
 * it); an address gives mysqlN for [serverN], the section's name otherwise.
 */
function baseName(section: string, hostname: string | undefined, labels: readonly string[]): string {
  if (hostname !== undefined && isHostname(hostname)) {
    const label = (hostname.split('.')[0] ?? hostname).toLowerCase();
    return labels.filter((l) => l === label).length === 1 ? label : hostname.toLowerCase();
  }
  const n = /^server(\d+)$/.exec(section)?.[1];
  return n ? `mysql${n}` : section.replace(/[^\w.-]/g, '-');
}

function mapServers(sections: [string, Section][], defaults: Section, notes: Notes): Server[] {
  const labels = sections
    .map(([, s]) => s.get('hostname')?.value)
    .filter((h): h is string => h !== undefined && isHostname(h))
    .map((h) => (h.split('.')[0] ?? h).toLowerCase());
  const taken = new Set<string>();
  return sections.map(([section, own], i) => {
    const settings: Section = new Map([...defaults, ...own]);
    for (const [key, at] of own) noteKey(notes, section, key, at);
    const hostname = own.get('hostname');
    let address = [own.get('ip')?.value, hostname?.value].find((v) => v !== undefined && isAddress(v));
    let comment = `[${section}]`;
    if (address === undefined) {
      // pullover publishes addresses in /etc/hosts: a name there would hang failover on the resolver.
      address = `192.0.2.${i + 1}`;
      comment = `[${section}] REPLACE with the address of ${hostname?.value ?? 'this server'}`;
      notes.add(section, 'hostname', hostname, hostname
        ? `${hostname.value} is not an IP address: write its address in place of the placeholder ${address}`
        : `missing: write the server's address in place of the placeholder ${address}`);
    }
    const base = baseName(section, hostname?.value, labels);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    taken.add(name);
    const candidate = flag(notes, section, 'candidate_master', settings.get('candidate_master'));
    const noMaster = flag(notes, section, 'no_master', settings.get('no_master'));
    return { section, name, address, comment, candidate, noMaster, settings, own };
  });
}

function sectionOf(server: Server, key: string): string {
  return server.own.has(key) ? server.section : DEFAULT;
}

/** The value every server must share (port, user, …): the master's, with a note where another differs. */
function shared(servers: Server[], master: Server, key: string, fallback: string, notes: Notes, why: string): string {
  const value = master.settings.get(key)?.value ?? fallback;
  for (const s of servers) {
    const at = s.settings.get(key);
    if ((at?.value ?? fallback) !== value) notes.add(sectionOf(s, key), key, at, `differs from ${master.name}'s: ${why}`);
  }
  return value;
}

interface Mysql {
  readonly port: number;
  readonly user: string;
  readonly replUser: string;
}

function mysqlSettings(servers: Server[], master: Server, notes: Notes): Mysql {
  const portText = shared(servers, master, 'port', '3306', notes,
    'one port for the whole cluster (the hosts file maps names, not ports); make every server listen on it');
  const valid = /^\d+$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535;
  if (!valid) notes.add(sectionOf(master, 'port'), 'port', master.settings.get('port'), 'not a port: 3306 is used');
  const user = shared(servers, master, 'user', 'root', notes, 'pullover logs in to every server as one user');
  shared(servers, master, 'password', '', notes, 'pullover uses one password for every server');
  const password = master.settings.get('password');
  notes.add(sectionOf(master, 'password'), 'password', password,
    `not copied: put it in ${PASSWORD_FILE} (mode 0600, owned by the controller's user)`
    + (password ? '' : '; MHA used an empty password'));
  const replUser = shared(servers, master, 'repl_user', '', notes, 'pullover repoints every replica as one user');
  if (!replUser) {
    notes.add(DEFAULT, 'repl_user', undefined, 'missing (MHA took Master_User from SHOW SLAVE STATUS): '
    + 'write it as mysql.replication_user in place of the placeholder "repl"');
  }
  const repl = master.settings.get('repl_password');
  notes.add(sectionOf(master, 'repl_password'), 'repl_password', repl,
    `not copied: put the replication password in ${REPL_PASSWORD_FILE} (mode 0600)`
    + (repl ? '' : '; MHA read it from master.info (mysql.slave_master_info)'));
  return { port: valid ? Number(portText) : 3306, user, replUser };
}

/** "3" → "3s"; a note and undefined (the default) for anything but a whole positive number. */
function whole(notes: Notes, key: string, at: Setting | undefined, unit: 's' | 'm'): string | undefined {
  if (at === undefined) return undefined;
  if (/^[1-9]\d*$/.test(at.value)) return `${at.value}${unit}`;
  notes.add(DEFAULT, key, at, `expected a whole number of ${unit === 's' ? 'seconds' : 'minutes'}: the default is used`);
  return undefined;
}

function pingType(notes: Notes, at: Setting | undefined): string {
  const ping = (at?.value ?? 'SELECT').toLowerCase();
  if (['connect', 'select', 'insert'].includes(ping)) return ping;
  notes.add(DEFAULT, 'ping_type', at, 'expected CONNECT, SELECT or INSERT: select is used');
  return 'select';
}

function scriptNotes(defaults: Section, notes: Notes): void {
  const script = defaults.get('master_ip_failover_script');
  if (script) {
    notes.add(DEFAULT, 'master_ip_failover_script', script, 'kept as failover.mha_failover_script, called with '
    + '--command=stop / --command=start like MHA; if all it does is push /etc/hosts (the rsync recipe), '
    + 'delete that line: the agents do it now');
    if (/\s/.test(script.value)) {
      notes.add(DEFAULT, 'master_ip_failover_script', script,
        'holds spaces: pullover runs it as one path; wrap the command and its arguments in a script');
    }
  }
  const shutdown = defaults.get('shutdown_script');
  if (shutdown) {
    notes.add(DEFAULT, 'shutdown_script', shutdown, 'no exact equivalent (MHA passed it --command=stop '
    + '--host=…): adapt it to read PULLOVER_OLD_MASTER_ADDRESS, then set it as failover.fence_command (commented out)');
  }
  const report = defaults.get('report_script');
  if (report) {
    notes.add(DEFAULT, 'report_script', report, 'no exact equivalent (MHA passed it --subject, --body …): '
    + 'adapt it to read the PULLOVER_* variables, then set it as failover.hooks.after (commented out)');
  }
}

/** YAML plain scalar when that reads back as the same string, else a double-quoted one. */
function scalar(value: string): string {
  const plain = isIPv4(value)
    || (/^[A-Za-z_/][\w./@-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value));
  return plain ? value : JSON.stringify(value);
}

function render(
  files: readonly MhaFile[],
  options: ImportOptions,
  servers: Server[],
  master: Server,
  defaults: Section,
  notes: Notes,
): string {
  const { port, user, replUser } = mysqlSettings(servers, master, notes);
  const interval = whole(notes, 'ping_interval', defaults.get('ping_interval'), 's');
  const ping = pingType(notes, defaults.get('ping_type'));
  const minInterval = whole(notes, 'last_failover_minute', defaults.get('last_failover_minute'), 'm');
  scriptNotes(defaults, notes);
  const script = defaults.get('master_ip_failover_script')?.value;
  const shutdown = defaults.get('shutdown_script')?.value;
  const report = defaults.get('report_script')?.value;
  const serverLines = servers.map((s) => {
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
    `    master: ${scalar(master.name)}`,
    '    mysql:',
    `      port: ${port}`,
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
    `      ping: ${ping} # ${defaults.has('ping_type') ? 'ping_type' : 'MHA\'s default ping_type, SELECT'}`
    + (ping === 'insert' ? ' (writes pullover.heartbeat, not infra.chk_masterha)' : ''),
    '      failures: 3 # like MHA: dead after 3 failed pings',
    '    failover:',
    minInterval
      ? `      min_interval: ${minInterval} # last_failover_minute; \`pullover-controller ack\` lifts it`
      : '      min_interval: 8h # MHA\'s last_failover_minute default, 480; `pullover-controller ack` lifts it',
  ];
  if (script) lines.push(`      mha_failover_script: ${scalar(script)} # master_ip_failover_script: still needed? see the notes`);
  if (shutdown) lines.push(`      # fence_command: ${scalar(shutdown)} # shutdown_script, once adapted`);
  if (report) lines.push('      # hooks:', `      #   after: ${scalar(report)} # report_script, once adapted`);
  return `${lines.join('\n')}\n`;
}
