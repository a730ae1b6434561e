// npm run package:deb → dist/deb/pullover-agent_VERSION_all.deb and pullover-controller_VERSION_all.deb
//
// For operators who installed MHA with apt (mha4mysql-manager, mha4mysql-node). Built with
// dpkg-deb from a staged tree, no debhelper: the agent is its one-file bundle, the controller its
// packed tarballs installed with their production dependencies. Both depend on nodejs (>= 20.19),
// which Debian 12 does not ship (it has 18): the README says where operators get it.
// Neither service is started on install: each needs its config and secrets written first.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleAgent } from '../packages/agent/scripts/bundle.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGING = join(ROOT, 'packaging', 'deb');
export const OUT = join(ROOT, 'dist', 'deb');
const MAINTAINER = 'pullover maintainers <pullover@users.noreply.github.com>';
const NODE = 'nodejs (>= 20.19)';

const versionOf = (pkg) => JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')).version;

function write(path, content, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode); // the umask must not decide what the package holds
}

/** A unit as shipped in systemd/, with the Debian path of the program. */
function unit(name) {
  return readFileSync(join(ROOT, 'systemd', name), 'utf8').replaceAll('/usr/local/bin/', '/usr/bin/');
}

/** copyright, changelog and lintian overrides: what every Debian package carries. */
function commonFiles(stage, name, version) {
  const doc = join(stage, 'usr', 'share', 'doc', name);
  write(join(doc, 'copyright'), readFileSync(join(PACKAGING, 'copyright')));
  // The date of the last commit, not of the build: the same sources make the same package.
  const date = execFileSync('git', ['log', '-1', '--format=%aD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const changelog = `${name} (${version}) unstable; urgency=medium\n\n  * Release ${version}.\n\n -- ${MAINTAINER}  ${date}\n`;
  write(join(doc, 'changelog.gz'), gzipSync(changelog, { level: 9 }));
  const overrides = join(PACKAGING, `${name.replace('pullover-', '')}`, 'lintian-overrides');
  write(join(stage, 'usr', 'share', 'lintian', 'overrides', name), readFileSync(overrides));
  for (const script of ['postinst', 'prerm', 'postrm']) {
    write(join(stage, 'DEBIAN', script), readFileSync(join(PACKAGING, name.replace('pullover-', ''), script)), 0o755);
  }
}

function control(stage, fields) {
  const text = Object.entries(fields).map(([key, value]) => `${key}: ${value}`).join('\n');
  write(join(stage, 'DEBIAN', 'control'), `${text}\n`);
}

/** Installed size in KiB, as dpkg counts it. */
function installedSize(stage) {
  const out = execFileSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' });
  return Number(out.split('\t')[0]);
}

function build(stage, name, version, out) {
  mkdirSync(out, { recursive: true });
  const deb = join(out, `${name}_${version}_all.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  return deb;
}

/** Stages the agent's package in `work` and builds it into `out`; resolves with the .deb's path. */
export async function packageAgent(work, out = OUT) {
  const name = 'pullover-agent';
  const version = versionOf('agent');
  const stage = join(work, name);
  mkdirSync(join(stage, 'usr', 'bin'), { recursive: true });
  await bundleAgent(join(stage, 'usr', 'bin', name));
  chmodSync(join(stage, 'usr', 'bin', name), 0o755);
  write(join(stage, 'lib', 'systemd', 'system', `${name}.service`), unit(`${name}.service`));
  write(join(stage, 'etc', 'pullover', 'agent.yaml'), readFileSync(join(ROOT, 'examples', 'agent.yaml')));
  mkdirSync(join(stage, 'var', 'lib'), { recursive: true });
  mkdirSync(join(stage, 'var', 'lib', name), { mode: 0o700 });
  chmodSync(join(stage, 'var', 'lib', name), 0o700); // the umask must not widen it
  commonFiles(stage, name, version);
  write(join(stage, 'DEBIAN', 'conffiles'), '/etc/pullover/agent.yaml\n');
  control(stage, {
    'Package': name,
    'Version': version,
    'Architecture': 'all',
    'Maintainer': MAINTAINER,
    'Installed-Size': installedSize(stage),
    'Depends': NODE,
    'Section': 'admin',
    'Priority': 'optional',
    'Homepage': 'https://github.com/pullover/pullover',
    'Description': 'keeps the MySQL master hostname in /etc/hosts current (pullover agent)\n'
      + ' One per application server: it long-polls the pullover controller and keeps\n'
      + ' one managed block of /etc/hosts pointing the master hostname at the current\n'
      + ' MySQL master. It replaces mha4mysql-node on the application servers. The\n'
      + ' service is not started on install: write /etc/pullover/agent.yaml and the\n'
      + ' agent\'s token first.',
  });
  return build(stage, name, version, out);
}

/**
 * Dependencies' tooling dotfiles (lint and editor configs, VCS and npm ignore files): nothing
 * reads them at run time, and Debian policy keeps them out of binary packages, as dh_nodejs does.
 */
const DEVELOPMENT_FILE =
  /^\.(eslintrc(\..*)?|npmignore|gitattributes|gitignore|editorconfig|prettierrc(\..*)?|travis\.yml)$/;

function pruneDevelopmentFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) pruneDevelopmentFiles(path);
    else if (DEVELOPMENT_FILE.test(entry.name)) rmSync(path);
  }
}

/** Stages the controller's package in `work` and builds it into `out`; returns the .deb's path. */
export function packageController(work, out = OUT) {
  const name = 'pullover-controller';
  const version = versionOf('controller');
  const stage = join(work, name);
  const lib = join(stage, 'usr', 'lib', name);
  // The tarballs npm would publish, installed with their production dependencies only: the
  // same install the README gives for npm, and no devDependency in the package.
  const packs = join(work, 'packs');
  mkdirSync(packs);
  const workspaces = ['protocol', 'controller'].flatMap((p) => ['-w', `packages/${p}`]);
  execFileSync('npm', ['pack', ...workspaces, '--pack-destination', packs, '--silent'], { cwd: ROOT, stdio: 'ignore' });
  mkdirSync(lib, { recursive: true });
  // @pullover/protocol from its tarball: no registry is ever asked for the @pullover scope.
  write(join(lib, 'package.json'), `${JSON.stringify({ private: true, overrides: { '@pullover/protocol': '$@pullover/protocol' } })}\n`);
  const tarballs = readdirSync(packs).map((file) => join(packs, file));
  execFileSync('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error', ...tarballs], {
    cwd: lib,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  rmSync(join(lib, 'package.json'));
  rmSync(join(lib, 'package-lock.json'), { force: true });
  pruneDevelopmentFiles(join(lib, 'node_modules'));
  mkdirSync(join(stage, 'usr', 'bin'), { recursive: true });
  symlinkSync(`../lib/${name}/node_modules/@pullover/controller/bin/${name}.js`, join(stage, 'usr', 'bin', name));
  write(join(stage, 'lib', 'systemd', 'system', `${name}.service`), unit(`${name}.service`));
  const examples = join(stage, 'usr', 'share', 'doc', name, 'examples');
  write(join(examples, 'controller.yaml'), readFileSync(join(ROOT, 'examples', 'controller.yaml')));
  write(join(examples, 'alerts.yml'), readFileSync(join(ROOT, 'examples', 'alerts.yml')));
  commonFiles(stage, name, version);
  control(stage, {
    'Package': name,
    'Version': version,
    'Architecture': 'all',
    'Maintainer': MAINTAINER,
    'Installed-Size': installedSize(stage),
    'Depends': `${NODE}, adduser`,
    'Section': 'admin',
    'Priority': 'optional',
    'Homepage': 'https://github.com/pullover/pullover',
    'Description': 'MySQL/MariaDB master failover by pull (pullover controller)\n'
      + ' Watches the MySQL masters, fails over to a replica when one dies, and serves\n'
      + ' the master mapping that the pullover agents write into each application\n'
      + ' server\'s /etc/hosts. It replaces mha4mysql-manager. It runs as the pullover\n'
      + ' system user. The service is not started on install: write\n'
      + ' /etc/pullover/controller.yaml (see /usr/share/doc/pullover-controller/examples)\n'
      + ' and its secrets first.',
  });
  return build(stage, name, version, out);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const work = mkdtempSync(join(tmpdir(), 'pullover-deb-'));
  try {
    console.log(await packageAgent(work));
    console.log(packageController(work));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
