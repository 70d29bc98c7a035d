/**
 * Spec drafts (`specs/drafts/`): specs written for a person to look at before they are queued: the
 * architect's (`nightshift plan`, follow-ups) and imported ones (`nightshift import github`). The inbox
 * never takes a draft; accepting one moves it into `specs/`, where the inbox takes it like any file.
 *
 * API: writeDraft (a new file, never over another), listDrafts, acceptDraft (into the inbox), and the
 * source index (`specs/drafts/.sources.json`: which draft came from which outside item, so a re-import
 * does not draft it again, even after the draft was accepted or deleted).
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { WorkspacePaths } from '../config/paths.js';
import { ensureDir, existsNoFollow, renameDurable, writeFileDurable, writeNewFileSync } from './fsx.js';

/** A draft's file name: `<name>.md` of a-z, 0-9 and "-" (never a path, never hidden). */
const DRAFT_NAME = /^[a-z0-9][a-z0-9-]{0,62}\.md$/;
const SOURCES_FILE = '.sources.json';

export interface Draft {
  /** The file name in specs/drafts/. */
  name: string;
  file: string;
}

function checkName(name: string): void {
  if (!DRAFT_NAME.test(name)) {
    throw new NightshiftError(ErrorCode.usage, `not a draft name: ${JSON.stringify(name)}`, {
      hint: 'a draft is <name>.md with a-z, 0-9 and "-", at most 63 characters before .md',
    });
  }
}

/**
 * Writes `text` as a new draft. The name is `<base>.md`, or `<base>-2.md`, `-3` … when taken. Returns
 * the draft written.
 */
export function writeDraft(paths: WorkspacePaths, base: string, text: string): Draft {
  ensureDir(paths.drafts);
  for (let n = 1; n < 1000; n++) {
    const suffix = n === 1 ? '' : `-${n}`;
    const name = `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}.md`;
    checkName(name);
    const file = path.join(paths.drafts, name);
    if (existsNoFollow(file) || existsNoFollow(path.join(paths.specs, name))) continue;
    try {
      writeNewFileSync(file, text, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    return { name, file };
  }
  throw new NightshiftError(ErrorCode.usage, `no free draft name for ${base}`, {
    file: paths.drafts,
  });
}

/** The drafts waiting (regular *.md files), by name. */
export function listDrafts(paths: WorkspacePaths): Draft[] {
  let names: string[];
  try {
    names = readdirSync(paths.drafts);
  } catch {
    return [];
  }
  return names
    .filter((n) => DRAFT_NAME.test(n) && lstatSync(path.join(paths.drafts, n)).isFile())
    .sort()
    .map((name) => ({ name, file: path.join(paths.drafts, name) }));
}

/** Moves the draft `name` into the inbox (specs/<name>); refused when the inbox has that name already. */
export function acceptDraft(paths: WorkspacePaths, name: string): string {
  checkName(name);
  const from = path.join(paths.drafts, name);
  const to = path.join(paths.specs, name);
  if (!lstatSync(from, { throwIfNoEntry: false })?.isFile()) {
    throw new NightshiftError(ErrorCode.usage, `no draft ${name}`, { file: from });
  }
  if (existsNoFollow(to)) {
    throw new NightshiftError(ErrorCode.usage, `the inbox has a ${name} already`, {
      file: to,
      hint: 'rename the draft, or wait until the inbox has taken the other one',
    });
  }
  renameDurable(from, to);
  return to;
}

export interface SourceEntry {
  /** The draft's file name when it was written. */
  draft: string;
  at: string;
}

/** Which outside item (`github:owner/repo#N`) each draft came from. */
export function readSources(paths: WorkspacePaths): Record<string, SourceEntry> {
  let raw: string;
  try {
    raw = readFileSync(path.join(paths.drafts, SOURCES_FILE), 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    const out: Record<string, SourceEntry> = {};
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      const v = value as Partial<SourceEntry> | null;
      if (v && typeof v.draft === 'string' && typeof v.at === 'string')
        out[key] = { draft: v.draft, at: v.at };
    }
    return out;
  } catch (err) {
    throw new NightshiftError(ErrorCode.io, `the draft source index is not valid JSON: ${String(err)}`, {
      file: path.join(paths.drafts, SOURCES_FILE),
      hint: 'fix or delete it (deleting it lets the next import draft every item again)',
    });
  }
}

/** Records that `source` was drafted as `draft` (atomically). */
export function recordSource(paths: WorkspacePaths, source: string, draft: string, now: number): void {
  ensureDir(paths.drafts);
  const sources = { ...readSources(paths), [source]: { draft, at: new Date(now).toISOString() } };
  writeFileDurable(
    path.join(paths.drafts, SOURCES_FILE),
    `${JSON.stringify(sources, null, 2)}\n`,
    paths.drafts,
  );
}
