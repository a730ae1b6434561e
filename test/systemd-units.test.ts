import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/processes.js';

/**
 * The shipped unit files, checked by systemd itself. `systemd-analyze verify` on the repository
 * copies would complain that /usr/local/bin/pullover-* does not exist, so the byte-identical files are
 * verified under --root: a scratch root holding the distribution's units (sysinit.target, …) and
 * stub executables at the ExecStart paths. verify exits 0 even after a warning ("Unknown key …,
 * ignoring"), so any output fails the test. systemd 252's verify does not look up User=, so
 * systemd/pullover.sysusers is checked by running systemd-sysusers into the same scratch root.
 */

const UNITS = ['pullover-agent.service', 'pullover-controller.service'] as const;
type UnitName = (typeof UNITS)[number];
const UNIT_DIR = '/etc/systemd/system';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, SYSTEMD_COLORS: '0' } }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') {
        // A missing systemd-analyze must fail, not skip: CI installs Debian's systemd package.
        reject(new Error(`${command} could not run (${err.code}): install the systemd package`));
        return;
      }
      // Killed by a signal, err.code is null: never mistaken for success.
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Section → directive → every assignment in file order (systemd lets a directive repeat). */
type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a unit file line: ${raw}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** The last assignment wins for a single-valued directive; undefined when it is not set. */
function single(unit: Unit, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1);
}

/** A list directive as systemd accumulates it: assignments add words, an empty one resets. */
function list(unit: Unit, section: string, key: string): string[] | undefined {
  const assignments = unit.get(section)?.get(key);
  if (!assignments) return undefined;
  return assignments.reduce<string[]>((acc, v) => (v === '' ? [] : [...acc, ...v.split(/\s+/)]), []).sort();
}

function systemUnitDir(): string {
  const dir = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(join(d, 'sysinit.target')));
  if (!dir) throw new Error('no systemd unit directory with sysinit.target: install the systemd package');
  return dir;
}

interface SecurityCheck {
  set: boolean | null;
  name: string;
  json_field: string;
}

/**
 * The checks of `systemd-analyze security` (systemd 252) each unit is allowed to fail, with the
 * reason. Any other failed check is a weakening; a newer systemd's new checks land here too.
 */
const ACCEPTED_GAPS: Record<UnitName, Record<string, string>> = {
  'pullover-agent.service': {
    UserOrDynamicUser: 'root: it replaces /etc/hosts and keeps its owner and mode',
    CapabilityBoundingSet_CAP_DAC_FOWNER_IPC_OWNER: 'CAP_DAC_OVERRIDE, CAP_FOWNER: see the unit',
    CapabilityBoundingSet_CAP_CHOWN_FSETID_SETFCAP: 'CAP_CHOWN: the hosts file keeps its owner',
    SystemCallFilter_privileged: '@privileged holds chown, which keeping the owner needs',
    RestrictAddressFamilies_AF_UNIX: 'nscd (on_change), syslog',
    RestrictAddressFamilies_AF_INET_INET6: 'the controllers and the MySQL greeting probe',
    IPAddressDeny: 'site-specific: the unit shows the drop-in',
    ...nodeGaps(),
  },
  'pullover-controller.service': {
    SystemCallFilter_privileged: 'hooks run arbitrary programs (ssh, cloud CLIs)',
    SystemCallFilter_resources: 'hooks run arbitrary programs',
    RestrictAddressFamilies_AF_UNIX: 'a local mysqld socket, ssh-agent, syslog',
    RestrictAddressFamilies_AF_INET_INET6: 'MySQL, agents, hooks',
    IPAddressDeny: 'MySQL servers, agents and hook targets are anywhere',
    ...nodeGaps(),
  },
};

function nodeGaps(): Record<string, string> {
  return {
    MemoryDenyWriteExecute: 'V8\'s JIT needs writable and executable memory',
    ProcSubset: 'Node.js sizes its heap from /proc/meminfo',
    PrivateNetwork: 'it talks to other machines',
    PrivateUsers: 'ownership of files outside the unit must stay real',
    RootDirectoryOrRootImage: 'an installed package, not an image',
    DeviceAllow: 'char-rtc:r comes with ProtectClock=yes',
  };
}

/** Measured with systemd 252 (Debian 12): agent 2.1, controller 1.5. A ceiling, with headroom for tuning. */
const EXPOSURE_CEILING: Record<UnitName, number> = {
  'pullover-agent.service': 2.5,
  'pullover-controller.service': 2.0,
};

const HARDENING: Record<string, string> = {
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectKernelLogs: 'yes',
  ProtectControlGroups: 'yes',
  ProtectClock: 'yes',
  ProtectHostname: 'yes',
  RestrictNamespaces: 'yes',
  RestrictRealtime: 'yes',
  RestrictSUIDSGID: 'yes',
  LockPersonality: 'yes',
  SystemCallArchitectures: 'native',
  // The state (anti-rollback version, failover journal) is the service's alone.
  UMask: '0077',
  // A syscall outside the filter must fail with EPERM: the default, SIGSYS, kills Node.js.
  SystemCallErrorNumber: 'EPERM',
};

describe('systemd units', () => {
  const texts = new Map<UnitName, string>();
  const units = new Map<UnitName, Unit>();
  let root: string;

  beforeAll(async () => {
    for (const name of UNITS) {
      const text = await readFile(join(ROOT, 'systemd', name), 'utf8');
      texts.set(name, text);
      units.set(name, parseUnit(text));
    }
    root = await mkdtemp(join(tmpdir(), 'pullover-units-'));
    await cp(systemUnitDir(), join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    await mkdir(join(root, UNIT_DIR), { recursive: true });
    for (const name of UNITS) {
      await writeFile(join(root, UNIT_DIR, name), texts.get(name)!);
      const binary = single(units.get(name)!, 'Service', 'ExecStart')!.split(/\s+/)[0]!;
      await mkdir(join(root, dirname(binary)), { recursive: true });
      await writeFile(join(root, binary), '#!/bin/sh\nexit 0\n');
      await chmod(join(root, binary), 0o755);
    }
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** verify's output with the scratch root's paths shown as the repository's. */
  async function verify(names: string[]): Promise<Run> {
    const result = await run('systemd-analyze', ['verify', `--root=${root}`, ...names.map((n) => join(UNIT_DIR, n))]);
    const shown = (s: string): string => s.replaceAll(join(root, UNIT_DIR) + '/', 'systemd/').trim();
    return { code: result.code, stdout: shown(result.stdout), stderr: shown(result.stderr) };
  }

  it('systemd/pullover.sysusers creates the user the controller runs as', async () => {
    await mkdir(join(root, 'etc'), { recursive: true });
    // An absolute path is read from the host even under --root: this is the repository's file.
    const result = await run('systemd-sysusers', [`--root=${root}`, join(ROOT, 'systemd/pullover.sysusers')]);
    expect(result.code, result.stderr).toBe(0);
    const controller = units.get('pullover-controller.service')!;
    const user = single(controller, 'Service', 'User');
    const passwd = (await readFile(join(root, 'etc/passwd'), 'utf8')).split('\n').map((l) => l.split(':'));
    const entry = passwd.find((fields) => fields[0] === user);
    expect(entry, `no ${user} in the passwd that systemd-sysusers wrote`).toBeDefined();
    // Its home is the state dir, where ssh in a hook keeps known_hosts: the only writable place.
    expect(entry![5]).toBe(`/var/lib/${single(controller, 'Service', 'StateDirectory')}`);
    expect(Number(entry![2]), 'a system user').toBeLessThan(1000);
    const group = (await readFile(join(root, 'etc/group'), 'utf8')).split('\n').map((l) => l.split(':')[0]);
    expect(group).toContain(single(controller, 'Service', 'Group'));
  });

  it('systemd-analyze verify accepts both units without a word', async () => {
    const result = await verify([...UNITS]);
    const said = [result.stdout, result.stderr].filter(Boolean).join('\n');
    expect(said, `systemd-analyze verify said:\n${said}`).toBe('');
    expect(result.code, said).toBe(0);
  });

  it('the verify harness sees a warning and a missing binary (a control, so silence means something)', async () => {
    const broken = `${texts.get('pullover-agent.service')!}\n[Service]\nProtectSystem=strcit\n`.replace(
      '/usr/local/bin/pullover-agent',
      '/usr/local/bin/pullover-nonexistent',
    );
    const control = join(root, UNIT_DIR, 'pullover-control.service');
    await writeFile(control, broken);
    const result = await verify(['pullover-control.service']).finally(() => rm(control));
    const said = `${result.stdout}\n${result.stderr}`;
    expect(said).toMatch(/pullover-control\.service:\d+: .*protect system value.*strcit/i);
    expect(said).toMatch(/\/usr\/local\/bin\/pullover-nonexistent is not executable/);
  });

  it('the IPAddressDeny= drop-in shown in the agent unit is valid as written', async () => {
    // The example: the commented lines from `#   [Service]` on; an operator pastes them as they are.
    const lines = texts.get('pullover-agent.service')!.split('\n');
    const start = lines.indexOf('#   [Service]');
    expect(start, 'the agent unit shows an IPAddressDeny= drop-in').toBeGreaterThan(0);
    const end = lines.findIndex((l, i) => i > start && !l.startsWith('#   '));
    const example = lines.slice(start, end);
    const dropIn = example.map((l) => l.slice('#   '.length)).join('\n') + '\n';
    expect(dropIn).toMatch(/^\[Service\]\nIPAddressDeny=any\n/);
    const dir = join(root, UNIT_DIR, 'pullover-agent.service.d');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'override.conf'), dropIn);
    const result = await verify(['pullover-agent.service']).finally(() => rm(dir, { recursive: true }));
    const said = [result.stdout, result.stderr].filter(Boolean).join('\n');
    expect(said, `systemd-analyze verify said, with the drop-in:\n${said}`).toBe('');
  });

  it.each(UNITS)('%s restarts on failure, at most 5 starts in 10 s, and gives up on a bad config', (name) => {
    const unit = units.get(name)!;
    expect(single(unit, 'Unit', 'StartLimitIntervalSec')).toBe('10');
    expect(single(unit, 'Unit', 'StartLimitBurst')).toBe('5');
    expect(single(unit, 'Service', 'Restart')).toBe('on-failure');
    expect(single(unit, 'Service', 'RestartPreventExitStatus')).toBe('2');
    expect(single(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
  });

  it.each(UNITS)('%s carries the hardening that Node.js tolerates', (name) => {
    const unit = units.get(name)!;
    for (const [key, value] of Object.entries(HARDENING)) {
      expect(single(unit, 'Service', key), key).toBe(value);
    }
    expect(list(unit, 'Service', 'RestrictAddressFamilies')).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    expect(list(unit, 'Service', 'SystemCallFilter')).toContain('@system-service');
    expect(list(unit, 'Service', 'AmbientCapabilities'), 'AmbientCapabilities= empty').toEqual([]);
    // Setting it would make Node.js abort at start-up: V8's JIT writes executable memory.
    expect(single(unit, 'Service', 'MemoryDenyWriteExecute')).toBeUndefined();
  });

  it('the agent runs as root cut down to three capabilities, writing only /etc and its state dir', () => {
    const agent = units.get('pullover-agent.service')!;
    expect(single(agent, 'Service', 'ExecStart')).toBe('/usr/local/bin/pullover-agent run --config /etc/pullover/agent.yaml');
    expect(single(agent, 'Service', 'User')).toBeUndefined();
    expect(list(agent, 'Service', 'CapabilityBoundingSet')).toEqual(['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER']);
    expect(list(agent, 'Service', 'ReadWritePaths')).toEqual(['/etc']);
    expect(single(agent, 'Service', 'StateDirectory')).toBe('pullover-agent');
    expect(list(agent, 'Service', 'ReadOnlyPaths')).toEqual(['-/etc/pullover']);
    for (const key of ['InaccessiblePaths', 'BindPaths', 'ReadWriteDirectories']) {
      expect(single(agent, 'Service', key), key).toBeUndefined();
    }
  });

  it('the controller runs as pullover with no capabilities and writes only its state dir', () => {
    const controller = units.get('pullover-controller.service')!;
    expect(single(controller, 'Service', 'ExecStart')).toBe(
      '/usr/local/bin/pullover-controller run --config /etc/pullover/controller.yaml',
    );
    expect(single(controller, 'Service', 'User')).toBe('pullover');
    expect(single(controller, 'Service', 'Group')).toBe('pullover');
    expect(list(controller, 'Service', 'CapabilityBoundingSet'), 'CapabilityBoundingSet= empty').toEqual([]);
    expect(single(controller, 'Service', 'StateDirectory')).toBe('pullover');
    for (const key of ['ReadWritePaths', 'BindPaths', 'IPAddressDeny', 'DynamicUser']) {
      expect(single(controller, 'Service', key), key).toBeUndefined();
    }
    expect(Number(single(controller, 'Service', 'LimitNOFILE'))).toBeGreaterThanOrEqual(65536);
    // Parked long-polls get a 503 and the socket closes: a stop never needs long.
    expect(Number(single(controller, 'Service', 'TimeoutStopSec'))).toBeLessThanOrEqual(30);
  });

  it.each(UNITS)('systemd-analyze security --offline: %s fails no check beyond the accepted ones', async (name) => {
    const file = join(ROOT, 'systemd', name);
    const json = await run('systemd-analyze', ['security', '--offline=true', '--json=short', file]);
    expect(json.code, json.stderr).toBe(0);
    const checks = JSON.parse(json.stdout) as SecurityCheck[];
    expect(checks.length).toBeGreaterThan(50);
    const gaps = ACCEPTED_GAPS[name];
    const weakened = checks.filter((c) => c.set === false && !(c.json_field in gaps)).map((c) => c.name);
    expect(weakened, `checks ${name} now fails`).toEqual([]);

    const text = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', file]);
    const score = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(text.stdout);
    expect(score, text.stdout + text.stderr).not.toBeNull();
    expect(Number(score![1])).toBeLessThanOrEqual(EXPOSURE_CEILING[name]);
  });
});
