import { BLOCK_BEGIN, BLOCK_END, type MappingEntry } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { type HostsPlan, planHostsFile, planUninstall, readBlock } from '../src/hosts/block.js';

const M = 'mysql-master.myservice.com';
const RO = 'mysql-ro.myservice.com';
const ONE: MappingEntry[] = [{ hostname: M, address: '200.200.200.2' }];
const TWO: MappingEntry[] = [...ONE, { hostname: RO, address: '200.200.200.3' }];
const V6: MappingEntry[] = [{ hostname: M, address: '2001:db8::2' }];

const block = (lines: string[], eol = '\n') =>
  [BLOCK_BEGIN, ...lines, BLOCK_END].map((l) => l + eol).join('');
const ONE_LF = block([`200.200.200.2\t${M}`]);
const ONE_CRLF = block([`200.200.200.2\t${M}`], '\r\n');
const TWO_LF = block([`200.200.200.2\t${M}`, `200.200.200.3\t${RO}`]);

interface Fixture {
  name: string;
  input: string;
  entries?: MappingEntry[];
  expected: string;
  shadowed?: HostsPlan['shadowed'];
  /** What uninstall gives when it is not simply the input (inputs that already carry our markers). */
  uninstalled?: string;
}

const DEBIAN = `127.0.0.1	localhost
127.0.1.1	app1.example.com	app1

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
`;
const RHEL = `127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4
::1         localhost localhost.localdomain localhost6 localhost6.localdomain6
`;
const DOCKER = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
ff00::0	ip6-mcastprefix
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
172.17.0.2	3f4e5d6c7b8a
`;
const WINDOWS =
  '# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n#      102.54.94.97     rhino.acme.com          # source server\r\n'
  + '127.0.0.1       localhost\r\n200.200.200.1   mysql-master.myservice.com\r\n';
const OFF = '#pullover-off# ';

const fixtures: Fixture[] = [
  { name: 'Debian default', input: DEBIAN, expected: ONE_LF + DEBIAN },
  { name: 'RHEL/CentOS default', input: RHEL, expected: ONE_LF + RHEL },
  { name: 'Docker-generated', input: DOCKER, expected: ONE_LF + DOCKER },
  {
    name: 'Debian with the old hand-written master line',
    input: `${DEBIAN}200.200.200.1\t${M}\n`,
    expected: `${ONE_LF}${DEBIAN}${OFF}200.200.200.1\t${M}\n`,
    shadowed: [{ line: 11, text: `200.200.200.1\t${M}`, names: [M] }],
  },
  {
    name: 'Windows-style CRLF',
    input: WINDOWS,
    expected: `${ONE_CRLF}${WINDOWS.replace('200.200.200.1   mysql', `${OFF}200.200.200.1   mysql`)}`,
    shadowed: [{ line: 8, text: `200.200.200.1   ${M}`, names: [M] }],
  },
  {
    name: 'CRLF, aliases, no final newline',
    input: `127.0.0.1 localhost\r\n200.200.200.1 mysql1 ${M}`,
    expected: `${ONE_CRLF}127.0.0.1 localhost\r\n${OFF}200.200.200.1 mysql1 ${M}\r\n200.200.200.1 mysql1 #pullover-reduced`,
    shadowed: [{ line: 5, text: `200.200.200.1 mysql1 ${M}`, names: [M] }],
  },
  {
    name: 'one line, no line break at all',
    input: '127.0.0.1 localhost',
    expected: `${ONE_LF}127.0.0.1 localhost`,
  },
  {
    name: 'no final newline, shadowed last line',
    input: `127.0.0.1 localhost\n200.200.200.1 ${M}`,
    expected: `${ONE_LF}127.0.0.1 localhost\n${OFF}200.200.200.1 ${M}`,
    shadowed: [{ line: 5, text: `200.200.200.1 ${M}`, names: [M] }],
  },
  {
    name: 'tabs, multiple spaces, trailing blanks',
    input: `127.0.0.1 \t localhost  \n200.200.200.1\t\tmysql1   ${M}\tdb  \n\n`,
    expected: `${ONE_LF}127.0.0.1 \t localhost  \n${OFF}200.200.200.1\t\tmysql1   ${M}\tdb  \n200.200.200.1\t\tmysql1\tdb   #pullover-reduced\n\n`,
    shadowed: [{ line: 5, text: `200.200.200.1\t\tmysql1   ${M}\tdb  `, names: [M] }],
  },
  {
    name: 'IPv6 lines and an IPv6 managed address',
    input: `::1 localhost\n2001:db8::1 ${M}\nfe80::1%eth0 ${M} router\n`,
    entries: V6,
    expected: `${block([`2001:db8::2\t${M}`])}::1 localhost\n${OFF}2001:db8::1 ${M}\n${OFF}fe80::1%eth0 ${M} router\nfe80::1%eth0 router #pullover-reduced\n`,
    shadowed: [
      { line: 5, text: `2001:db8::1 ${M}`, names: [M] },
      { line: 6, text: `fe80::1%eth0 ${M} router`, names: [M] },
    ],
  },
  {
    name: 'managed name first, middle and last among aliases',
    input: `200.200.200.1 ${M} mysql1 db1\n200.200.200.1 mysql1 ${M} db1\n200.200.200.1 mysql1 ${M}\n`,
    expected:
      `${ONE_LF}${OFF}200.200.200.1 ${M} mysql1 db1\n200.200.200.1 mysql1 db1 #pullover-reduced\n`
      + `${OFF}200.200.200.1 mysql1 ${M} db1\n200.200.200.1 mysql1 db1 #pullover-reduced\n`
      + `${OFF}200.200.200.1 mysql1 ${M}\n200.200.200.1 mysql1 #pullover-reduced\n`,
    shadowed: [
      { line: 4, text: `200.200.200.1 ${M} mysql1 db1`, names: [M] },
      { line: 6, text: `200.200.200.1 mysql1 ${M} db1`, names: [M] },
      { line: 8, text: `200.200.200.1 mysql1 ${M}`, names: [M] },
    ],
  },
  {
    name: 'managed name in different case',
    input: '200.200.200.1 MySQL-Master.MyService.COM\n',
    expected: `${ONE_LF}${OFF}200.200.200.1 MySQL-Master.MyService.COM\n`,
    shadowed: [{ line: 4, text: '200.200.200.1 MySQL-Master.MyService.COM', names: [M] }],
  },
  {
    name: 'duplicate and conflicting lines',
    input: `200.200.200.1 ${M}\n200.200.200.2 ${M}\n10.0.0.9 ${M} ${M.toUpperCase()}\n`,
    expected: `${ONE_LF}${OFF}200.200.200.1 ${M}\n${OFF}200.200.200.2 ${M}\n${OFF}10.0.0.9 ${M} ${M.toUpperCase()}\n`,
    shadowed: [
      { line: 4, text: `200.200.200.1 ${M}`, names: [M] },
      { line: 5, text: `200.200.200.2 ${M}`, names: [M] },
      { line: 6, text: `10.0.0.9 ${M} ${M.toUpperCase()}`, names: [M] },
    ],
  },
  {
    name: 'two managed names on one line with a comment after them',
    input: `200.200.200.1 ${M} mysql1 ${RO} # old master   \n`,
    entries: TWO,
    expected: `${TWO_LF}${OFF}200.200.200.1 ${M} mysql1 ${RO} # old master   \n200.200.200.1 mysql1 # old master    #pullover-reduced\n`,
    shadowed: [{ line: 5, text: `200.200.200.1 ${M} mysql1 ${RO} # old master   `, names: [M, RO] }],
  },
  {
    name: 'existing block edited by hand, in the middle of the file',
    input: `127.0.0.1 localhost\n${BLOCK_BEGIN}\n10.9.9.9\t${M}\n# my note\n${BLOCK_END}\n::1 localhost\n`,
    expected: `127.0.0.1 localhost\n${ONE_LF}::1 localhost\n`,
    uninstalled: '127.0.0.1 localhost\n::1 localhost\n',
  },
  {
    name: 'existing block with stale entries, markers with trailing blanks',
    input: `${BLOCK_BEGIN}  \n200.200.200.1\t${M}\n200.200.200.9\t${RO}\n${BLOCK_END}\t\n${DEBIAN}`,
    expected: ONE_LF + DEBIAN,
    uninstalled: DEBIAN,
  },
  {
    name: 'two blocks: the first position is kept',
    input: `127.0.0.1 localhost\n${ONE_LF}::1 localhost\n${BLOCK_BEGIN}\n1.1.1.1\t${M}\n${BLOCK_END}\n`,
    entries: TWO,
    expected: `127.0.0.1 localhost\n${TWO_LF}::1 localhost\n`,
    uninstalled: '127.0.0.1 localhost\n::1 localhost\n',
  },
  {
    name: 'lone BEGIN: marker dropped, block at its place, the lines after it shadowed',
    input: `127.0.0.1 localhost\n${BLOCK_BEGIN}\n200.200.200.1 ${M}\n::1 localhost\n`,
    expected: `127.0.0.1 localhost\n${ONE_LF}${OFF}200.200.200.1 ${M}\n::1 localhost\n`,
    shadowed: [{ line: 5, text: `200.200.200.1 ${M}`, names: [M] }],
    uninstalled: `127.0.0.1 localhost\n200.200.200.1 ${M}\n::1 localhost\n`,
  },
  {
    name: 'a lone END before a block, a lone BEGIN after it',
    input: `${BLOCK_END}\na\n${TWO_LF}b\n${BLOCK_BEGIN}\n::1 localhost\n`,
    expected: `a\n${ONE_LF}b\n::1 localhost\n`,
    uninstalled: 'a\nb\n::1 localhost\n',
  },
  {
    name: 'lone END',
    input: `127.0.0.1 localhost\n${BLOCK_END}\n`,
    expected: `${ONE_LF}127.0.0.1 localhost\n`,
    uninstalled: '127.0.0.1 localhost\n',
  },
  { name: 'empty file', input: '', expected: ONE_LF },
  { name: 'empty file, no entries', input: '', entries: [], expected: `${BLOCK_BEGIN}\n${BLOCK_END}\n` },
  { name: 'only comments', input: '# nothing here\n#\n', expected: `${ONE_LF}# nothing here\n#\n` },
  {
    name: 'managed hostname inside comments, near-miss markers, non-ASCII',
    input: `# 200.200.200.1 ${M} (old master)\n  # 200.200.200.1 ${M}\n10.0.0.5 app # talks to ${M}\n# BEGIN pullover\n# END pullover — old\n# café, 東京 ✓\n`,
    expected: `${ONE_LF}# 200.200.200.1 ${M} (old master)\n  # 200.200.200.1 ${M}\n10.0.0.5 app # talks to ${M}\n# BEGIN pullover\n# END pullover — old\n# café, 東京 ✓\n`,
  },
  {
    name: 'malformed lines are left alone',
    input: `${M} 200.200.200.1\n200.200.200.1\nnot-an-ip ${M}\n999.1.1.1 ${M}\n`,
    expected: `${ONE_LF}${M} 200.200.200.1\n200.200.200.1\nnot-an-ip ${M}\n999.1.1.1 ${M}\n`,
  },
  {
    name: 'entries go from two hostnames to one: the dropped name gets its line back',
    input: `${TWO_LF}${OFF}200.200.200.3 ${RO}\n${OFF}200.200.200.1 mysql1 ${M} ${RO}\n200.200.200.1 mysql1 #pullover-reduced\n`,
    expected: `${ONE_LF}200.200.200.3 ${RO}\n${OFF}200.200.200.1 mysql1 ${M} ${RO}\n200.200.200.1 mysql1 ${RO} #pullover-reduced\n`,
    shadowed: [{ line: 5, text: `200.200.200.1 mysql1 ${M} ${RO}`, names: [M] }],
    uninstalled: `200.200.200.3 ${RO}\n200.200.200.1 mysql1 ${M} ${RO}\n`,
  },
  {
    name: 'no entries: every shadowed line comes back',
    input: `${ONE_LF}${OFF}200.200.200.1 mysql1 ${M}\n200.200.200.1 mysql1 #pullover-reduced`,
    entries: [],
    expected: `${BLOCK_BEGIN}\n${BLOCK_END}\n200.200.200.1 mysql1 ${M}`,
    uninstalled: `200.200.200.1 mysql1 ${M}`,
  },
];

describe('planHostsFile', () => {
  describe.each(fixtures)('$name', ({ input, entries = ONE, expected, shadowed = [], uninstalled }) => {
    const plan = planHostsFile(input, entries);

    it('gives the expected bytes', () => {
      expect(plan.content).toBe(expected);
      expect(plan.changed).toBe(expected !== input);
      expect(plan.shadowed).toEqual(shadowed);
    });

    it('is idempotent', () => {
      const again = planHostsFile(plan.content, entries);
      expect(again.content).toBe(plan.content);
      expect(again.changed).toBe(false);
      expect(again.shadowed).toEqual(plan.shadowed);
    });

    it('puts exactly its block where readBlock finds it', () => {
      expect(readBlock(plan.content)).toBe(plan.block);
      expect(plan.content).toContain(plan.block);
    });

    it('is undone byte for byte by planUninstall', () => {
      const original = uninstalled ?? input;
      expect(planUninstall(input).content).toBe(original);
      expect(planUninstall(plan.content).content).toBe(original);
    });

    it('depends only on the original file and the entries', () => {
      for (const before of [TWO, [], V6, ONE]) {
        const replanned = planHostsFile(planHostsFile(input, before).content, entries);
        expect(replanned.content).toBe(plan.content);
      }
    });
  });

  it('reports the shadowed line numbers of the planned content', () => {
    const plan = planHostsFile(`127.0.0.1 localhost\n200.200.200.1 mysql1 ${M}\n::1 ${M}\n`, TWO);
    const lines = plan.content.split('\n');
    for (const { line, text } of plan.shadowed) expect(lines[line - 1]).toBe(`#pullover-off# ${text}`);
    expect(plan.shadowed.map((s) => s.line)).toEqual([6, 8]);
  });

  it('uses LF when the first line break is LF even if later ones are CRLF', () => {
    expect(planHostsFile('a\nb\r\n', []).content).toBe(`${BLOCK_BEGIN}\n${BLOCK_END}\na\nb\r\n`);
  });
});

describe('readBlock', () => {
  it('is null without a complete block', () => {
    expect(readBlock('')).toBeNull();
    expect(readBlock(DEBIAN)).toBeNull();
    expect(readBlock(`${BLOCK_BEGIN}\n1.1.1.1 ${M}\n`)).toBeNull();
    expect(readBlock(`${BLOCK_END}\n`)).toBeNull();
  });

  it('returns the bytes as they are in the file, hand edits and CRLF included', () => {
    const edited = `${BLOCK_BEGIN}\r\n10.9.9.9 ${M}\r\n# note\r\n${BLOCK_END}  \r\n`;
    expect(readBlock(`127.0.0.1 localhost\r\n${edited}::1 localhost\r\n`)).toBe(edited);
  });

  it('returns the first of several blocks, and one without a final newline', () => {
    const last = `${BLOCK_BEGIN}\n${BLOCK_END}`;
    expect(readBlock(`${ONE_LF}x\n${TWO_LF}`)).toBe(ONE_LF);
    expect(readBlock(`127.0.0.1 localhost\n${last}`)).toBe(last);
  });
});
