import { ConfigError } from '../errors.js';

// MHA's config files as data: sections of settings, each remembering the file and line it came from
// (the notes point there).

export interface MhaFile {
  readonly file: string;
  readonly text: string;
}

export interface Setting {
  readonly value: string;
  readonly file: string;
  readonly line: number;
  /** Which file, in the order given: later files override earlier ones. */
  readonly order: number;
}

export type Section = Map<string, Setting>;

/** The section every [serverN] inherits from. */
export const DEFAULT = 'server default';

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
export function mergeMhaFiles(files: readonly MhaFile[]): Map<string, Section> {
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
