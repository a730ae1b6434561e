// The managed block of a hosts file, as pure functions of the file's text: the agent plans, compares,
// and only then writes, so a byte-identical result is never rewritten (and never wakes a watcher).
import { BLOCK_BEGIN, BLOCK_END, type MappingEntry } from '@pullover/protocol';
import { firstEol, isLine, joinLines, type Line, parseHostsLine, splitLines } from './lines.js';

/** Prefix of a line commented out because it would shadow the block; the original text follows it. */
export const SHADOW_PREFIX = '#pullover-off# ';
/** Suffix of the line that keeps a shadowed line's other names resolving. */
export const REDUCED_SUFFIX = ' #pullover-reduced';

export interface ShadowedLine {
  /** 1-based line number in the planned content (where the `#pullover-off#` line now is). */
  line: number;
  /** The line as the operator wrote it, without its line ending. */
  text: string;
  /** The managed hostnames it named (lowercase, each once). */
  names: string[];
}

export interface HostsPlan {
  content: string;
  /** `content !== current`: false means there is nothing to write. */
  changed: boolean;
  /** The managed block's bytes, markers and line endings included (what `readBlock` finds after writing). */
  block: string;
  /** Every line outside the block that names a managed hostname and is commented out in `content`. */
  shadowed: ShadowedLine[];
}

const BLOCK = Symbol('block');
type Item = Line | typeof BLOCK;

interface Parsed {
  /** Lines outside any block, with BLOCK where the managed block goes. */
  items: Item[];
  /** The first complete block, as its bytes. */
  block: string | null;
  /** Address lines inside every complete block. */
  entries: number;
  eol: '\n' | '\r\n' | undefined;
}

/**
 * Drops every block and stray marker. The block goes where the first block (or a lone BEGIN) was,
 * else at the very top: resolvers take the first line naming a host, so nothing appended later can
 * shadow it.
 */
function parse(current: string): Parsed {
  const lines = splitLines(current);
  const nextEnd: number[] = new Array(lines.length + 1).fill(-1);
  for (let i = lines.length - 1; i >= 0; i--) {
    nextEnd[i] = isLine(lines[i]?.text ?? '', BLOCK_END) ? i : (nextEnd[i + 1] ?? -1);
  }
  const items: Item[] = [];
  let placed = false;
  let block: string | null = null;
  let entries = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line;
    if (isLine(line.text, BLOCK_BEGIN)) {
      if (!placed) items.push(BLOCK);
      placed = true;
      const end = nextEnd[i + 1] ?? -1;
      // A BEGIN without END loses only its marker: the lines after it may be the operator's.
      if (end === -1) continue;
      block ??= joinLines(lines.slice(i, end + 1));
      entries += lines.slice(i + 1, end).filter((inside) => parseHostsLine(inside.text) !== null).length;
      i = end;
    } else if (!isLine(line.text, BLOCK_END)) {
      items.push(line);
    }
  }
  if (!placed) items.unshift(BLOCK);
  return { items, block, entries, eol: firstEol(lines) };
}

/** Brings back every line we commented out, so planning depends only on the operator's own lines. */
function restore(items: readonly Item[]): { items: Item[]; restored: number } {
  const out: Item[] = [];
  let restored = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Item;
    if (item === BLOCK || !item.text.startsWith(SHADOW_PREFIX)) {
      out.push(item);
      continue;
    }
    const text = item.text.slice(SHADOW_PREFIX.length);
    // Only address lines were ever shadowed; anything else is someone's comment, kept as it is.
    if (parseHostsLine(text) === null) {
      out.push(item);
      continue;
    }
    restored++;
    const next = items[i + 1];
    if (next !== undefined && next !== BLOCK && next.text.trimEnd().endsWith(REDUCED_SUFFIX)) {
      // The reduced line carries the original ending (the shadowed one may have gained one).
      out.push({ text, eol: next.eol });
      i++;
    } else {
      out.push({ text, eol: item.eol });
    }
  }
  return { items: out, restored };
}

function renderBlock(entries: readonly MappingEntry[], eol: string): string {
  const lines = [BLOCK_BEGIN, ...entries.map((entry) => `${entry.address}\t${entry.hostname}`), BLOCK_END];
  return lines.map((line) => line + eol).join('');
}

export function planHostsFile(current: string, entries: readonly MappingEntry[]): HostsPlan {
  const parsed = parse(current);
  const { items } = restore(parsed.items);
  const kept = items.filter((item): item is Line => item !== BLOCK);
  // Judged on the operator's lines, not on markers we drop, so a second plan picks the same ending.
  const eol = firstEol(kept) ?? parsed.eol ?? '\n';
  const block = renderBlock(entries, eol);
  const managed = new Set(entries.map((entry) => entry.hostname.toLowerCase()));

  const out: string[] = [];
  const shadowed: ShadowedLine[] = [];
  let lineNo = 1;
  const emit = (text: string, lineEol: string) => {
    out.push(text + lineEol);
    lineNo++;
  };
  for (const item of items) {
    if (item === BLOCK) {
      out.push(block);
      lineNo += entries.length + 2;
      continue;
    }
    const parsedLine = parseHostsLine(item.text);
    const hits = parsedLine?.names.filter((token) => managed.has(token.name.toLowerCase())) ?? [];
    if (parsedLine === null || hits.length === 0) {
      emit(item.text, item.eol);
      continue;
    }
    const names = [...new Set(hits.map((token) => token.name.toLowerCase()))];
    shadowed.push({ line: lineNo, text: item.text, names });
    if (hits.length === parsedLine.names.length) {
      emit(SHADOW_PREFIX + item.text, item.eol);
      continue;
    }
    // The other names on the line (`mysql1` next to the master's name) must keep resolving.
    let reduced = '';
    let at = 0;
    for (const token of hits) {
      reduced += item.text.slice(at, token.from);
      at = token.to;
    }
    reduced += item.text.slice(at) + REDUCED_SUFFIX;
    emit(SHADOW_PREFIX + item.text, item.eol || eol);
    emit(reduced, item.eol);
  }
  const content = out.join('');
  return { content, changed: content !== current, block, shadowed };
}

export interface UninstallPlan {
  /** The file without any block or stray marker, every shadowed line as the operator wrote it. */
  content: string;
  /** `content !== current`: false means there is nothing to write. */
  changed: boolean;
  /** Whether a complete block was found (a stray marker alone is removed too, but is no block). */
  hadBlock: boolean;
  /** Address lines in the removed block(s). */
  entries: number;
  /** Lines that were commented out with SHADOW_PREFIX and are live again. */
  restored: number;
}

/** For `pullover-agent uninstall`: the exact inverse of planHostsFile on the operator's lines. */
export function planUninstall(current: string): UninstallPlan {
  const parsed = parse(current);
  const { items, restored } = restore(parsed.items);
  const content = joinLines(items.filter((item): item is Line => item !== BLOCK));
  return {
    content,
    changed: content !== current,
    hadBlock: parsed.block !== null,
    entries: parsed.entries,
    restored,
  };
}

/** The first managed block's bytes as they are in the file, or null when there is no complete block. */
export function readBlock(current: string): string | null {
  return parse(current).block;
}
