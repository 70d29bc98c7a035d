/**
 * The TUI's Drafts view reads and changes specs/drafts/ through this port (queue/drafts.ts underneath):
 * list, read, the argv that edits one in $EDITOR, accept into the inbox, discard. Errors come back as
 * messages for the status line, never thrown at the view.
 */
import path from 'node:path';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { coerceError } from '../core/errors.js';
import {
  acceptDraft,
  discardDraft,
  draftNameProblem,
  listDrafts,
  readDraft,
  type DraftEntry,
} from '../queue/drafts.js';

export type DraftRow = Pick<DraftEntry, 'name' | 'id' | 'title' | 'followUpOf' | 'problems'>;

export interface DraftsPort {
  list(): DraftRow[];
  /** The draft's text, or a line saying why it cannot be read. */
  text(name: string): string;
  /** `$EDITOR <file>` (vi when unset) as an argv for the terminal hand-over; throws on a bad name. */
  editArgv(name: string, env: NodeJS.ProcessEnv): string[];
  accept(name: string): { ok: boolean; message: string };
  discard(name: string): { ok: boolean; message: string };
}

export function workspaceDrafts(paths: WorkspacePaths, config: Config): DraftsPort {
  return {
    list: () => listDrafts(paths, config),
    text(name) {
      try {
        return readDraft(paths, name);
      } catch (err) {
        return `(cannot read ${name}: ${coerceError(err).message})`;
      }
    },
    editArgv(name, env) {
      const problem = draftNameProblem(name);
      if (problem) throw new Error(problem);
      const editor = env['VISUAL']?.trim() || env['EDITOR']?.trim() || 'vi';
      // The editor's command line is the user's own setting; the file is passed as "$1", never spliced in.
      return ['sh', '-c', `${editor} "$1"`, 'sh', path.join(paths.drafts, name)];
    },
    accept(name) {
      try {
        const moved = acceptDraft(paths, name);
        return { ok: true, message: `${name} moved to specs/${moved}: the inbox queues it` };
      } catch (err) {
        return { ok: false, message: `accepting ${name} failed: ${coerceError(err).message}` };
      }
    },
    discard(name) {
      try {
        const moved = discardDraft(paths, name);
        return { ok: true, message: `${name} discarded (kept in specs/drafts/.discarded/${moved})` };
      } catch (err) {
        return { ok: false, message: `discarding ${name} failed: ${coerceError(err).message}` };
      }
    },
  };
}
