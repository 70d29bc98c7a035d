/**
 * Several workspaces on one worker (docs/hosts.md#several-workspaces-on-one-worker): the workspace id kept
 * in the workspace, the session names it namespaces, which sessions are this workspace's (adoption, kill,
 * attach and strays touch only those), what load sensing counts, and the per-workspace directory.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { workspacePaths } from '../../src/config/paths.js';
import { workspaceId } from '../../src/config/workspace-identity.js';
import { ErrorCode } from '../../src/core/errors.js';
import { ruleFor } from '../../src/core/failures.js';
import { TASK_ID_PATTERN } from '../../src/core/ids.js';
import { parseWorkspaceId, WORKSPACE_ID_PATTERN } from '../../src/core/workspace-id.js';
import { straySessions } from '../../src/daemon/strays.js';
import { workspaceDir } from '../../src/hosts/layout.js';
import { isExecutorSession, sessionName, sessionOwner } from '../../src/hosts/session-names.js';
import { tid } from '../../src/testing/ids.js';

const A = parseWorkspaceId('aaaa0001');
const B = parseWorkspaceId('bbbb0002');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmpWorkspace() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-wsid-'));
  dirs.push(root);
  return workspacePaths(root);
}

describe('the workspace id', () => {
  it('is drawn once, kept in queue/state/workspace-id, and read back the same by every caller', () => {
    const paths = tmpWorkspace();
    const id = workspaceId(paths);
    expect(id).toMatch(WORKSPACE_ID_PATTERN);
    expect(readFileSync(paths.workspaceIdFile, 'utf8').trim()).toBe(id);
    expect(workspaceId(paths)).toBe(id);
    expect(workspaceId(workspacePaths(paths.root))).toBe(id);
  });

  it('moves with the workspace, and two workspaces draw different ids', () => {
    const a = tmpWorkspace();
    const id = workspaceId(a);
    const moved = path.join(
      os.tmpdir(),
      `ns-wsid-moved-${process.pid}-${Math.random().toString(36).slice(2)}`,
    );
    dirs.push(moved);
    // rename(2): the workspace as a person moves it.
    renameSync(a.root, moved);
    expect(workspaceId(workspacePaths(moved))).toBe(id);
    expect(workspaceId(tmpWorkspace())).not.toBe(id);
  });

  it('refuses a file that holds no id, naming the file and what to do', () => {
    const paths = tmpWorkspace();
    mkdirSync(path.dirname(paths.workspaceIdFile), { recursive: true });
    writeFileSync(paths.workspaceIdFile, 'ns-x_y\n');
    expect(() => workspaceId(paths)).toThrow(/not a workspace id/);
    try {
      workspaceId(paths);
    } catch (err) {
      expect((err as { code: string }).code).toBe(ErrorCode.invalidConfig);
      expect((err as { context: { file?: string; hint?: string } }).context.file).toBe(paths.workspaceIdFile);
      expect((err as { context: { hint?: string } }).context.hint).toMatch(/delete the file/);
    }
  });
});

describe('session names', () => {
  it('carry the workspace id: the same task id in two workspaces gives two sessions', () => {
    expect(sessionName(A, tid('same'))).toBe('ns-aaaa0001_same');
    expect(sessionName(B, tid('same'))).toBe('ns-bbbb0002_same');
  });

  it('are mine only when sessionName(mine, id) gives them; other workspaces, legacy and foreign apart', () => {
    expect(sessionOwner('ns-aaaa0001_same', A)).toEqual({ kind: 'mine', taskId: 'same' });
    expect(sessionOwner('ns-bbbb0002_same', A)).toEqual({ kind: 'other-workspace', workspace: 'bbbb0002' });
    // The name scheme before workspace ids: never mine, whatever the task id looks like.
    expect(sessionOwner('ns-same', A)).toEqual({ kind: 'legacy', taskId: 'same' });
    expect(sessionOwner('ns-aaaa0001-same', A)).toEqual({ kind: 'legacy', taskId: 'aaaa0001-same' });
    for (const name of [
      'nightshift',
      'ns-',
      'ns-aaaa0001_',
      'ns-aaaa0001_../x',
      'ns-AAAA0001_same',
      'ns-aaaa001_same',
      'ns-aaaa0001_same_x',
      'ns-aaaa0001__same',
      'x-ns-aaaa0001_same',
    ]) {
      expect(sessionOwner(name, A), name).toEqual({ kind: 'foreign' });
    }
  });

  it('split one way only: any workspace and task id round-trip, and no other workspace reads them as its own', () => {
    const seed = Number(process.env['FC_SEED'] ?? Date.now());
    console.log(`session-name property seed ${seed}`);
    const wsId = fc.stringMatching(WORKSPACE_ID_PATTERN);
    const taskId = fc.stringMatching(TASK_ID_PATTERN).filter((s) => {
      try {
        tid(s);
        return true;
      } catch {
        return false;
      }
    });
    fc.assert(
      fc.property(wsId, wsId, taskId, (mine, other, id) => {
        const name = sessionName(parseWorkspaceId(mine), tid(id));
        expect(sessionOwner(name, parseWorkspaceId(mine))).toEqual({ kind: 'mine', taskId: id });
        if (other !== mine) expect(sessionOwner(name, parseWorkspaceId(other)).kind).toBe('other-workspace');
        // The legacy name of the same task is never this workspace's.
        expect(sessionOwner(`ns-${id}`, parseWorkspaceId(mine)).kind).toBe('legacy');
        expect(isExecutorSession(name)).toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('load sensing counts every workspace’s executors, and older nightshifts’, but not a person’s sessions', () => {
    const counted = ['ns-aaaa0001_x', 'ns-bbbb0002_x', 'ns-x', 'nightshift', 'work'].filter(
      isExecutorSession,
    );
    expect(counted).toEqual(['ns-aaaa0001_x', 'ns-bbbb0002_x', 'ns-x']);
  });
});

describe('stray sessions', () => {
  const running = new Set(['live']);
  it('are this workspace’s sessions of no running task, and legacy ones; never another workspace’s', () => {
    const strays = straySessions(
      [
        'ns-aaaa0001_live',
        'ns-aaaa0001_done-one',
        'ns-bbbb0002_other',
        'ns-bbbb0002_live',
        'ns-live',
        'nightshift',
      ],
      A,
      running,
    );
    expect(strays.map((s) => s.session)).toEqual(['ns-aaaa0001_done-one', 'ns-live']);
    expect(strays[0]?.reason).toMatch(/no running task owns this session; left alone/);
    expect(strays[1]?.reason).toMatch(/older than workspace ids.*never adopted/);
  });
});

describe('worker directories', () => {
  it('are <workdir>/ws/<workspace id>, one per workspace, under a configured or ~/ workdir alike', () => {
    expect(workspaceDir('/srv/ns', A)).toBe('/srv/ns/ws/aaaa0001');
    expect(workspaceDir('~/.nightshift', B)).toBe('~/.nightshift/ws/bbbb0002');
  });
});

describe('a session-name collision', () => {
  it('is nightshift’s failure, never the spec’s: no attempt charged', () => {
    expect(ruleFor('session-collision')).toEqual({
      attribution: 'supervisor',
      retryable: true,
      chargesAttempt: false,
    });
  });
});
