/**
 * The workspace's id on the worker hosts it may share with other workspaces (core/workspace-id.ts): read
 * from `queue/state/workspace-id`, or drawn at random (4 bytes, as hex) and written there the first time
 * anything asks, by the daemon or a client alike. Kept in the workspace rather than derived from its path,
 * so a moved workspace keeps its id, and two machines whose workspaces have the same path do not share
 * one. A copy of a workspace made with its queue/ keeps the id too: delete the file in the copy.
 *
 * The file is made whole before it appears (a temporary file, then link(2), which fails when the file
 * exists): of two processes that draw at once, one id wins and both read it.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseWorkspaceId, type WorkspaceId } from '../core/workspace-id.js';
import type { WorkspacePaths } from './paths.js';

/** The id in `paths.workspaceIdFile`, made if the file is missing. Throws when the file holds no id. */
export function workspaceId(paths: Pick<WorkspacePaths, 'workspaceIdFile'>): WorkspaceId {
  const file = paths.workspaceIdFile;
  const existing = readId(file);
  if (existing !== null) return existing;
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${randomBytes(4).toString('hex')}\n`, { mode: 0o644 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readId(file) ?? parseWorkspaceId('', { file });
}

function readId(file: string): WorkspaceId | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return parseWorkspaceId(text.trim(), { file });
}
