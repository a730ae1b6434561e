import { isAddress, isHostname } from '@pullover/protocol';
import { ConfigError } from '../errors.js';
import { DEFAULT, type MhaFile, mergeMhaFiles, type Section, type Setting } from './mha-ini.js';
import { noteKey, Notes } from './mha-notes.js';
import {
  type ImportOptions,
  type ImportPlan,
  PASSWORD_FILE,
  type PlannedServer,
  REPL_PASSWORD_FILE,
  renderYaml,
} from './mha-yaml.js';

// `pullover-controller import-mha`: MHA config files in, controller.yaml text and notes out. Pure:
// the CLI reads and writes the files. A password is never copied into the output or a note: the
// YAML names the file it belongs in, and the notes say so. Reading the files is mha-ini.ts, the
// notes on settings pullover has no key for mha-notes.ts, the YAML text mha-yaml.ts; the
// decisions are here.

export type { ImportOptions } from './mha-yaml.js';
export type { MhaFile } from './mha-ini.js';

export interface MhaImport {
  readonly yaml: string;
  /** One line each: `file:line: [section] key: what to do`, in the order of the files. */
  readonly notes: readonly string[];
}

interface Server extends PlannedServer {
  readonly section: string;
  /** Its own section over [server default]. */
  readonly settings: Section;
  readonly own: Section;
}

/** Maps MHA config files (global first, application last) to controller.yaml text and the notes. */
export function importMha(files: readonly MhaFile[], options: ImportOptions): MhaImport {
  const sections = mergeMhaFiles(files);
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
  const yaml = renderYaml(files, options, plan(servers, master, defaults, notes));
  return { yaml, notes: notes.sorted() };
}

/** The YAML's values; notes on whatever MHA had that they do not carry over. */
function plan(servers: Server[], master: Server, defaults: Section, notes: Notes): ImportPlan {
  const { port, user, replUser } = mysqlSettings(servers, master, notes);
  const interval = whole(notes, 'ping_interval', defaults.get('ping_interval'), 's');
  const ping = pingType(notes, defaults.get('ping_type'));
  const minInterval = whole(notes, 'last_failover_minute', defaults.get('last_failover_minute'), 'm');
  scriptNotes(defaults, notes);
  return {
    servers,
    master: master.name,
    port,
    user,
    replUser,
    interval,
    ping,
    pingSet: defaults.has('ping_type'),
    minInterval,
    failoverScript: defaults.get('master_ip_failover_script')?.value,
    shutdownScript: defaults.get('shutdown_script')?.value,
    reportScript: defaults.get('report_script')?.value,
  };
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
