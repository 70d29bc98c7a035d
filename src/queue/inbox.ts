/**
 * specs/ is an inbox: a valid spec dropped there is enqueued and moved to specs/.accepted/; an invalid
 * one is moved to specs/.rejected/ with a `<name>.error.txt` beside it. Nothing is lost either way.
 *
 * Every `*.md` entry is a spec to take or refuse: one that is a symlink, a FIFO, a socket or anything
 * but a plain file, or one nightshift may not read, is refused and moved to .rejected (rename moves the
 * entry itself, never opens it or follows it); one bad entry never stops the sweep. Other
 * entries stay where they are: a symlink, FIFO, socket or device is refused and reported (with what to
 * do), a plain file or a directory is reported as ignored. Dotfiles and editors' or copy tools' scratch
 * files (`*.tmp`, `*.swp`, `*~`) are skipped silently. specs/ and its .accepted/ and .rejected/ must be
 * real directories, never links.
 *
 * A spec still being written (`scp` over a slow link, `cat > specs/x.md`, an editor saving in place) is
 * not taken half-written: a file changed less than SETTLE_MS ago is read only when no process has it
 * open for writing (Linux /proc), else once it has not changed for SETTLE_MS; it is left for a later
 * sweep if it changes while it is read, and one that does not parse is refused only once it has
 * not changed for REJECT_SETTLE_MS (a half-written file is usually invalid: it may still be finished).
 * Waiting files are listed in `settling`, with how long until they may be taken.
 */
import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { coerceError, ErrorCode, formatIssue, NightshiftError, SpecError } from '../core/errors.js';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/schema.js';
import type { WorkspacePaths } from '../config/paths.js';
import { MAX_SPEC_BYTES, parseSpec, type ParsedSpec } from '../spec/parse.js';
import {
  checkRealDir,
  entryKind,
  FatalIoError,
  moveAside,
  readRegularFile,
  writeFileDurable,
} from './fsx.js';
import type { QueueStore } from './store.js';
import { hasOpenWriter } from './writers.js';

export interface InboxResult {
  accepted: { file: string; task: string }[];
  /** `moved` is the name it has in specs/.rejected/ (`bad.1.md` when `bad.md` was already there). */
  rejected: { file: string; moved: string; reason: string }[];
  /** Symlinks, FIFOs, sockets and devices not named *.md: never touched, reported each sweep. */
  refused: { file: string; reason: string }[];
  /** Plain files and directories not named *.md: left alone. */
  ignored: { file: string; reason: string }[];
  /** *.md files that changed too recently to be taken: left for a sweep `readyInMs` from now. */
  settling: { file: string; readyInMs: number }[];
}

/** How long a spec file must stay unchanged (size and mtime) before it is read. */
export const SETTLE_MS = 1000;
/** How long a spec file that does not parse must stay unchanged before it is refused. */
export const REJECT_SETTLE_MS = 3000;

/** Names that are never specs: dotfiles, and the scratch files of editors and copy tools. */
export function isScratchName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || /\.(tmp|swp|swx|part|crdownload)$/i.test(name);
}

/** Refused entries already recorded as events, per store: a long-lived daemon records each one once. */
const recorded = new WeakMap<QueueStore, Set<string>>();

export function sweepInbox(deps: {
  paths: WorkspacePaths;
  config: Config;
  store: QueueStore;
  clock: Clock;
  /**
   * The time files' mtimes are compared with (how long ago a file last changed): the real time by
   * default, whatever `clock` says, since mtimes come from the real clock.
   */
  fileNow?: () => number;
  /** Whether a process has the file open for writing (null: cannot tell); /proc by default. */
  openWriter?: (file: string) => boolean | null;
}): InboxResult {
  const { paths, config, store, clock } = deps;
  const fileNow = deps.fileNow ?? Date.now;
  const openWriter = deps.openWriter ?? hasOpenWriter;
  const result: InboxResult = { accepted: [], rejected: [], refused: [], ignored: [], settling: [] };
  if (!checkRealDir(paths.specs)) return result;
  checkRealDir(paths.accepted);
  checkRealDir(paths.rejected);
  const entries = readdirSync(paths.specs, { withFileTypes: true });
  const candidates: { name: string; mtime: number }[] = [];
  for (const entry of entries) {
    if (isScratchName(entry.name)) continue;
    // specs/drafts/ holds the architect's drafts (queue/drafts.ts): not the inbox's to report.
    if (entry.isDirectory() && path.join(paths.specs, entry.name) === paths.drafts) continue;
    if (entry.name.toLowerCase().endsWith('.md')) {
      candidates.push({ name: entry.name, mtime: safeMtime(path.join(paths.specs, entry.name)) });
    } else if (entry.isFile() || entry.isDirectory()) {
      result.ignored.push({ file: entry.name, reason: ignoredReason(entry) });
    } else {
      const reason = `${entryKind(entry)}: refused and left where it is; nightshift never follows links or reads FIFOs in the inbox — remove it, and to queue a spec copy the real file into specs/ as <name>.md`;
      result.refused.push({ file: entry.name, reason });
      const seen = recorded.get(store) ?? new Set<string>();
      recorded.set(store, seen);
      const key = `${entry.name}\0${entryKind(entry)}`;
      if (!seen.has(key)) {
        seen.add(key);
        const time = new Date(clock.now()).toISOString();
        store.emit({ type: 'queue.refused', time, file: path.join(paths.specs, entry.name), reason });
      }
    }
  }
  candidates.sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name));

  for (const { name } of candidates) {
    const file = path.join(paths.specs, name);
    const time = new Date(clock.now()).toISOString();
    const before = safeStat(file);
    if (before?.isFile()) {
      const age = fileNow() - before.mtimeMs;
      // Fresh: taken at once when no process has it open for writing (a `cp`, `mv` or editor save that
      // is done); otherwise, or where that cannot be told, once it has not changed for a moment.
      if (age < SETTLE_MS && (openWriter(file) ?? true)) {
        result.settling.push({ file: name, readyInMs: Math.ceil(SETTLE_MS - age) });
        continue;
      }
    }
    try {
      const bytes = readInboxFile(file);
      if (!bytes) continue; // removed since the listing: nothing to take or refuse
      // Written to while it was read: the bytes may be half of it. Taken at a later sweep.
      if (before?.isFile() && changed(before, safeStat(file))) {
        result.settling.push({ file: name, readyInMs: SETTLE_MS });
        continue;
      }
      let parsed: ParsedSpec;
      try {
        parsed = parseSpec(bytes, { file, config });
        if (config.lint.strict && parsed.warnings.length) throw new SpecError(parsed.warnings);
      } catch (err) {
        // Refused only once it has stayed as it is for a while: it may still be being written.
        const now = safeStat(file);
        const age = now ? fileNow() - now.mtimeMs : Infinity;
        if (now?.isFile() && (changed(before, now) || age < REJECT_SETTLE_MS)) {
          result.settling.push({ file: name, readyInMs: Math.ceil(Math.max(REJECT_SETTLE_MS - age, 1)) });
          continue;
        }
        throw err;
      }
      // Files arrive one at a time and in any order: a dependency not queued yet is waited for (as with
      // `add --allow-unknown-deps`); a cycle is refused like any invalid spec.
      const task = alreadyQueued(store, parsed)
        ? parsed.id
        : store.enqueue(parsed, { allowUnknownDeps: true }).id;
      moveAside(file, paths.accepted, name);
      result.accepted.push({ file: name, task });
      store.emit({ type: 'inbox.accepted', time, task, file: name });
    } catch (err) {
      // The disk may have lost data: stop. Any other OS error here is the queue's, not this spec's
      // (readInboxFile names the spec's own), so it is not blamed on the spec either.
      if (err instanceof FatalIoError) throw err;
      const e = coerceError(err);
      if (e.code === ErrorCode.io) throw e;
      const text =
        e instanceof SpecError
          ? `${e.issues.map(formatIssue).join('\n')}\n`
          : `${e.context.file ? e.describe() : `${file}: ${e.describe()}`}\n`;
      const moved = moveAside(file, paths.rejected, name);
      // The reason may quote the spec; the file beside it is the spec as written, the reason is ours.
      writeFileDurable(
        `${moved}.error.txt`,
        store.redact(`${text}\nFix the file and move it back into specs/ to queue it.\n`),
        paths.tmp,
      );
      result.rejected.push({ file: name, moved: path.basename(moved), reason: store.redact(text.trim()) });
      store.emit({ type: 'inbox.rejected', time, file: name, reason: text.trim().split('\n')[0] ?? '' });
    }
  }
  return result;
}

/**
 * True only when this very file was enqueued and the process stopped before moving it to .accepted:
 * its task is still pending, never attempted, with the same dedup key and byte-identical spec.md. Any
 * other spec whose id is taken (a failed or done task, an edited file) goes to enqueue(), which refuses it.
 */
function alreadyQueued(store: QueueStore, parsed: ParsedSpec): boolean {
  if (store.locate(parsed.id) !== 'pending') return false;
  const task = store.get(parsed.id);
  return (
    task.state === 'pending' &&
    task.attempts.length === 0 &&
    task.dedupKey === parsed.dedupKey &&
    // raw: the redacted text would never match a spec that quotes a configured secret.
    store.specText(parsed.id, { raw: true }) === parsed.text
  );
}

/**
 * Reads an inbox entry, turning an OS error (a socket gives ENXIO, a file nightshift may not read
 * EACCES) into a refusal that names the file and what to do, so that one entry is moved to .rejected
 * and never stops the sweep. Opening never blocks and never follows a link (readRegularFile).
 */
function readInboxFile(file: string): Buffer | null {
  try {
    return readRegularFile(file, MAX_SPEC_BYTES);
  } catch (err) {
    if (err instanceof NightshiftError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') return null;
    let kind = '';
    try {
      const st = lstatSync(file);
      if (!st.isFile()) kind = entryKind(st);
    } catch {
      // Gone or unreadable itself: the open error says enough.
    }
    if (kind) {
      throw new NightshiftError(ErrorCode.unsafeFile, `is ${kind}, not a spec file (${code})`, {
        file,
        hint: 'it was moved aside without being opened; remove it, and to queue a spec copy the real file into specs/ as <name>.md',
      });
    }
    const denied = code === 'EACCES' || code === 'EPERM';
    throw new NightshiftError(
      ErrorCode.unsafeFile,
      denied
        ? `cannot be read by nightshift (${code}, running as uid ${process.getuid?.() ?? '?'})`
        : `cannot be read (${code}): ${(err as Error).message}`,
      {
        file,
        hint: denied
          ? 'give the user nightshift runs as read permission (e.g. chmod a+r) and move it back into specs/'
          : 'check the file, fix it and move it back into specs/',
      },
    );
  }
}

function ignoredReason(entry: Dirent): string {
  return entry.isDirectory()
    ? 'a directory: left alone; the inbox does not look into subdirectories — move its *.md files into specs/ to queue them'
    : 'not named *.md: left alone; only *.md files are queued — rename it to <name>.md to queue it';
}

function safeStat(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

/** Whether a file's size, mtime or identity differ between two looks at it. */
function changed(a: Stats | null, b: Stats | null): boolean {
  if (!a || !b) return a !== b;
  return a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.ino !== b.ino;
}

function safeMtime(file: string): number {
  try {
    return lstatSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
