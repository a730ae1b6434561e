import { BLOCK_BEGIN, BLOCK_END, type MappingEntry } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { planHostsFile, planUninstall, SHADOW_PREFIX, type UninstallPlan } from '../src/hosts/block.js';

const M = 'mysql-master.myservice.com';
const RO = 'mysql-ro.myservice.com';
const TWO: MappingEntry[] = [
  { hostname: M, address: '200.200.200.2' },
  { hostname: RO, address: '200.200.200.3' },
];
const OFF = SHADOW_PREFIX;
const block = (lines: string[], eol = '\n') => [BLOCK_BEGIN, ...lines, BLOCK_END].map((l) => l + eol).join('');

interface Case {
  name: string;
  input: string;
  expected: Omit<UninstallPlan, 'changed'>;
}

const cases: Case[] = [
  {
    name: 'block and one shadowed line',
    input: `${block([`200.200.200.2\t${M}`])}127.0.0.1 localhost\n${OFF}200.200.200.1 ${M}\n`,
    expected: {
      content: `127.0.0.1 localhost\n200.200.200.1 ${M}\n`,
      hadBlock: true,
      entries: 1,
      restored: 1,
    },
  },
  {
    name: 'a reduced line goes away with its shadowed original, CRLF, no final newline',
    input: `${block([`200.200.200.2\t${M}`], '\r\n')}${OFF}10.0.0.1 mysql1 ${M}\r\n10.0.0.1 mysql1 #pullover-reduced`,
    expected: { content: `10.0.0.1 mysql1 ${M}`, hadBlock: true, entries: 1, restored: 1 },
  },
  {
    name: 'hand notes inside the block are not entries',
    input: `${block([`200.200.200.2\t${M}`, '# a note', '', `200.200.200.3\t${RO}`])}::1 localhost\n`,
    expected: { content: '::1 localhost\n', hadBlock: true, entries: 2, restored: 0 },
  },
  {
    name: 'empty block',
    input: `${block([])}::1 localhost`,
    expected: { content: '::1 localhost', hadBlock: true, entries: 0, restored: 0 },
  },
  {
    name: 'no block, nothing of ours: untouched',
    input: '127.0.0.1 localhost\r\n# a comment\r\n',
    expected: { content: '127.0.0.1 localhost\r\n# a comment\r\n', hadBlock: false, entries: 0, restored: 0 },
  },
  {
    name: 'block gone, a shadowed line left behind',
    input: `127.0.0.1 localhost\n${OFF}200.200.200.1 ${M}\n`,
    expected: { content: `127.0.0.1 localhost\n200.200.200.1 ${M}\n`, hadBlock: false, entries: 0, restored: 1 },
  },
  {
    name: 'a lone END is dropped, but is no block',
    input: `127.0.0.1 localhost\n${BLOCK_END}\n`,
    expected: { content: '127.0.0.1 localhost\n', hadBlock: false, entries: 0, restored: 0 },
  },
  {
    name: 'our prefix before something that is not an address line is an operator comment',
    input: `${OFF}see the wiki\n${OFF}mysql1 10.0.0.1\n`,
    expected: { content: `${OFF}see the wiki\n${OFF}mysql1 10.0.0.1\n`, hadBlock: false, entries: 0, restored: 0 },
  },
  { name: 'empty file', input: '', expected: { content: '', hadBlock: false, entries: 0, restored: 0 } },
];

describe('planUninstall', () => {
  it.each(cases)('$name', ({ input, expected }) => {
    const plan = planUninstall(input);
    expect(plan).toEqual({ ...expected, changed: expected.content !== input });
    // A second uninstall finds nothing left to do.
    expect(planUninstall(plan.content)).toEqual({
      content: plan.content,
      changed: false,
      hadBlock: false,
      entries: 0,
      restored: 0,
    });
  });
});

describe('install then uninstall gives back the original bytes', () => {
  const operatorLines = [
    '127.0.0.1\tlocalhost',
    '# hand-written before pullover',
    `200.200.200.1 ${M}`,
    `10.0.0.1   mysql1 ${M}  ${RO} # old master`,
    '',
    '::1 localhost ip6-localhost',
  ];
  const variants = ['\n', '\r\n'].flatMap((eol) =>
    [true, false].map((finalNewline) => ({
      label: `${eol === '\n' ? 'LF' : 'CRLF'}, ${finalNewline ? 'with' : 'without'} a final newline`,
      original: operatorLines.join(eol) + (finalNewline ? eol : ''),
    })),
  );

  it.each(variants)('$label', ({ original }) => {
    const installed = planHostsFile(original, TWO);
    expect(installed.shadowed).toHaveLength(2);
    // Through a failover too: the last plan is what uninstall sees.
    const moved = planHostsFile(installed.content, [{ hostname: M, address: '200.200.200.9' }]);
    for (const content of [installed.content, moved.content]) {
      const plan = planUninstall(content);
      expect(plan.content).toBe(original);
      expect(plan.restored).toBe(2);
    }
    expect(planUninstall(installed.content).entries).toBe(2);
    expect(planUninstall(moved.content).entries).toBe(1);
  });
});
