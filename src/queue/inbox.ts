/**
 * specs/ is an inbox: a valid spec dropped there is enqueued and moved to specs/.accepted/; an invalid
 * one is moved to specs/.rejected/ with a `<name>.error.txt` beside it. Nothing is lost either way.
 * Only `*.md` entries are considered; symlinks, FIFOs and other non-regular files are moved to
 * .rejected (rename never follows a link) and reported.
 */
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { coerceError, ErrorCode, formatIssue, NightshiftError, SpecError } from '../core/errors.js';
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/schema.js';
import type { WorkspacePaths } from '../config/paths.js';
import { MAX_SPEC_BYTES, parseSpec } from '../spec/parse.js';
import { ensureDir, readRegularFile, renameDurable, writeFileDurable } from './fsx.js';
import type { QueueStore } from './store.js';

export interface InboxResult {
  accepted: { file: string; task: string }[];
  rejected: { file: string; reason: string }[];
}

export function sweepInbox(deps: {
  paths: WorkspacePaths;
  config: Config;
  store: QueueStore;
  clock: Clock;
}): InboxResult {
  const { paths, config, store, clock } = deps;
  const result: InboxResult = { accepted: [], rejected: [] };
  let entries;
  try {
    entries = readdirSync(paths.specs, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw err;
  }
  const candidates = entries
    .filter((e) => !e.name.startsWith('.') && e.name.toLowerCase().endsWith('.md'))
    .map((e) => ({ name: e.name, mtime: safeMtime(path.join(paths.specs, e.name)) }))
    .sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name));

  for (const { name } of candidates) {
    const file = path.join(paths.specs, name);
    const time = new Date(clock.now()).toISOString();
    try {
      const parsed = parseSpec(readRegularFile(file, MAX_SPEC_BYTES), { file, config });
      if (config.lint.strict && parsed.warnings.length) throw new SpecError(parsed.warnings);
      const existing = store.locate(parsed.id);
      // Enqueued before a crash, not yet moved: it is already in the queue.
      const already = existing !== null && store.get(parsed.id).dedupKey === parsed.dedupKey;
      const task = already ? parsed.id : store.enqueue(parsed).id;
      moveAside(file, paths.accepted, name);
      result.accepted.push({ file: name, task });
      store.emit({ type: 'inbox.accepted', time, task, file: name });
    } catch (err) {
      const e = coerceError(err);
      if (e instanceof NightshiftError && e.code === ErrorCode.io) throw e;
      const text =
        e instanceof SpecError ? `${e.issues.map(formatIssue).join('\n')}\n` : `${file}: ${e.describe()}\n`;
      const moved = moveAside(file, paths.rejected, name);
      writeFileDurable(
        `${moved}.error.txt`,
        `${text}\nFix the file and move it back into specs/ to queue it.\n`,
        paths.tmp,
      );
      result.rejected.push({ file: name, reason: text.trim() });
      store.emit({ type: 'inbox.rejected', time, file: name, reason: text.trim().split('\n')[0] ?? '' });
    }
  }
  return result;
}

function safeMtime(file: string): number {
  try {
    return lstatSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Moves a file into `dir`, never overwriting: a clash gets a numeric suffix. Returns the new path. */
function moveAside(file: string, dir: string, name: string): string {
  ensureDir(dir);
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 0; ; n++) {
    const target = path.join(dir, n === 0 ? name : `${stem}.${n}${ext}`);
    try {
      lstatSync(target);
    } catch {
      renameDurable(file, target);
      return target;
    }
  }
}
