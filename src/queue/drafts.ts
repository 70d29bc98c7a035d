/**
 * specs/drafts/: specs the architect wrote (`nightshift plan`, follow-ups) or imported ones, waiting for
 * a person. A draft is a plain `<id>.md` file; accepting it moves it into specs/ (the inbox, inbox.ts,
 * which queues it like any spec); discarding it moves it to specs/drafts/.discarded/ (nothing is lost).
 *
 *   writeDraft(paths, id, text)   → the new file's name (`<id>.md`, `<id>.1.md` when taken)
 *   listDrafts(paths, config)     → each draft's name, id, title, followUpOf, lint problems
 *   readDraft(paths, name)        → its text
 *   acceptDraft(paths, name)      → its name in specs/
 *   discardDraft(paths, name)     → its name in specs/drafts/.discarded/
 *   draftDuplicate(...)           → why a new draft duplicates a queued task or another draft, or null
 *   draftFiles(paths)             → each draft's name and path, without reading it
 *   readSources / recordSource    → the source index (specs/drafts/.sources.json): which outside item
 *                                   (`github:owner/repo#N`) each draft came from, so a re-import does not
 *                                   draft it again, even after the draft was accepted or deleted
 *
 * Names come from people (the TUI) and ids from the architect: each is checked (draftNameProblem) before
 * it reaches a path, and links, FIFOs and other non-files are never read.
 */
import { lstatSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { idProblem } from '../core/ids.js';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { checkSpec, MAX_SPEC_BYTES } from '../spec/parse.js';
import {
  ensureDir,
  existsNoFollow,
  fsyncDir,
  moveAside,
  readRegularFile,
  uniqueSuffix,
  writeFileDurable,
  writeNewFileSync,
} from './fsx.js';
import type { QueueStore } from './store.js';

export interface DraftEntry {
  /** The file name in specs/drafts/ (`<id>.md`). */
  name: string;
  id: string | null;
  title: string | null;
  followUpOf: string | null;
  dedupKey: string | null;
  /** Errors and (strict) warnings of `lint`, as it prints them; empty when it would pass `lint --strict`. */
  problems: string[];
  mtimeMs: number;
}

const NAME = /^([a-z0-9][a-z0-9-]{0,62})(\.\d{1,4})?\.md$/;
const SOURCES_FILE = '.sources.json';

/** A draft as a file: its name in specs/drafts/ and its path. */
export interface Draft {
  name: string;
  file: string;
}

/** What is wrong with a draft's file name, or null: `<id>.md` or `<id>.<n>.md` only. */
export function draftNameProblem(name: string): string | null {
  return NAME.test(name)
    ? null
    : `"${name}" is not a draft name: expected <id>.md (lowercase letters, digits, -)`;
}

/** The first free name for `id` among `taken`: `<id>.md`, then `<id>.1.md`, `<id>.2.md`… */
export function draftName(id: string, taken: (name: string) => boolean): string {
  const problem = idProblem(id);
  if (problem)
    throw new NightshiftError(ErrorCode.invalidSpec, `draft id "${id}": ${problem}`, { field: 'id' });
  for (let n = 0; n < 10_000; n++) {
    const name = n === 0 ? `${id}.md` : `${id}.${n}.md`;
    if (!taken(name)) return name;
  }
  throw new NightshiftError(ErrorCode.invalidSpec, `no free draft name for "${id}"`, { field: 'id' });
}

function checkName(name: string): void {
  const problem = draftNameProblem(name);
  if (problem) throw new NightshiftError(ErrorCode.invalidSpec, problem, { field: 'name' });
}

/**
 * Writes `text` as a new file in `dir` named for `id` (never overwriting): a dotfile first, renamed into
 * place, so neither the inbox nor a listing sees it half-written. Returns the name.
 */
export function writeSpecFile(dir: string, id: string, text: string): string {
  ensureDir(dir);
  const name = draftName(id, (n) => existsNoFollow(path.join(dir, n)));
  const tmp = path.join(dir, `.${name}.${uniqueSuffix()}.tmp`);
  writeNewFileSync(tmp, text, 0o644);
  try {
    renameSync(tmp, path.join(dir, name));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
  return name;
}

export function writeDraft(paths: WorkspacePaths, id: string, text: string): string {
  return writeSpecFile(paths.drafts, id, text);
}

export function readDraft(paths: WorkspacePaths, name: string): string {
  checkName(name);
  return readRegularFile(path.join(paths.drafts, name), MAX_SPEC_BYTES).toString('utf8');
}

/** The drafts, oldest first; entries that are not `<id>.md` plain files are left out. */
export function listDrafts(paths: WorkspacePaths, config: Config): DraftEntry[] {
  let names: string[];
  try {
    names = readdirSync(paths.drafts);
  } catch {
    return [];
  }
  const out: DraftEntry[] = [];
  for (const name of names) {
    if (draftNameProblem(name)) continue;
    const file = path.join(paths.drafts, name);
    let mtimeMs: number;
    let bytes: Buffer;
    try {
      const st = lstatSync(file);
      if (!st.isFile()) continue;
      mtimeMs = st.mtimeMs;
      bytes = readRegularFile(file, MAX_SPEC_BYTES);
    } catch {
      continue;
    }
    const c = checkSpec(bytes, { file: name, config });
    const problems = [...c.errors, ...c.warnings].map(
      (i) => `${i.line ? `${i.file}:${i.line}` : i.file}: ${i.field ? `${i.field}: ` : ''}${i.message}`,
    );
    out.push({
      name,
      id: c.spec?.id ?? null,
      title: c.spec?.spec.title ?? null,
      followUpOf: c.spec?.followUpOf ?? null,
      dedupKey: c.spec?.dedupKey ?? null,
      problems,
      mtimeMs,
    });
  }
  return out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
}

/** Moves a draft into specs/ (the inbox): queued at the daemon's next sweep. Returns its name there. */
export function acceptDraft(paths: WorkspacePaths, name: string): string {
  checkName(name);
  const file = path.join(paths.drafts, name);
  if (!lstatSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new NightshiftError(ErrorCode.unsafeFile, `no draft "${name}" in specs/drafts/`, { file });
  }
  return path.basename(moveAside(file, paths.specs, name));
}

/** Moves a draft to specs/drafts/.discarded/. Returns its name there. */
export function discardDraft(paths: WorkspacePaths, name: string): string {
  checkName(name);
  const file = path.join(paths.drafts, name);
  if (!lstatSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new NightshiftError(ErrorCode.unsafeFile, `no draft "${name}" in specs/drafts/`, { file });
  }
  return path.basename(moveAside(file, path.join(paths.drafts, '.discarded'), name));
}

/**
 * Why a spec with `dedupKey` would duplicate work already asked for (an active or merged task, or a
 * draft waiting), or null. The queue's own dedup (store.findDuplicate) plus the drafts.
 */
export function draftDuplicate(
  paths: WorkspacePaths,
  config: Config,
  store: Pick<QueueStore, 'findDuplicate'>,
  dedupKey: string,
): string | null {
  const task = store.findDuplicate(dedupKey);
  if (task) return `duplicates task ${task.id} (${task.state}): same repo, base, body and tests`;
  const draft = listDrafts(paths, config).find((d) => d.dedupKey === dedupKey);
  return draft ? `duplicates the draft ${draft.name}` : null;
}

/** The drafts waiting (regular files with a draft's name), by name, without reading them. */
export function draftFiles(paths: WorkspacePaths): Draft[] {
  let names: string[];
  try {
    names = readdirSync(paths.drafts);
  } catch {
    return [];
  }
  return names
    .filter((n) => !draftNameProblem(n) && lstatSync(path.join(paths.drafts, n)).isFile())
    .sort()
    .map((name) => ({ name, file: path.join(paths.drafts, name) }));
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
