/**
 * The typed seams of issue 13: failure codes, park reasons and task ids are closed types, checked once
 * where they enter (a spec, a CLI argument, a request file, a queue directory, a task.json).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Attribution, ErrorCode, NightshiftError } from '../../src/core/errors.js';
import {
  FAILURE_CODES,
  FAILURE_RULES,
  isFailureCode,
  ruleFor,
  type FailureCode,
} from '../../src/core/failures.js';
import { idProblem, isTaskId, parseTaskId } from '../../src/core/ids.js';
import { PARK_REASONS, isParkReason } from '../../src/core/park.js';
import { ManualClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { applyPendingRequests } from '../../src/queue/requests.js';
import { QueueStore } from '../../src/queue/store.js';
import { ToggleStore } from '../../src/queue/toggles.js';
import { parseSpec } from '../../src/spec/parse.js';
import { SpecError } from '../../src/core/errors.js';
import { makeWorkspace, runCli, specText, type TestWorkspace } from '../../src/testing/workspace.js';
import { coerceError } from '../../src/core/errors.js';
import { LinkError } from '../../src/hosts/runner.js';
import { BranchError } from '../../src/hosts/worker.js';
import { PromptTooLargeError } from '../../src/providers/common.js';

let ws: TestWorkspace;
let store: QueueStore;
let clock: ManualClock;

beforeEach(() => {
  ws = makeWorkspace();
  clock = new ManualClock(Date.UTC(2026, 10, 26, 22));
  store = new QueueStore(ws.paths, clock, new EventLog(ws.paths.events), { cache: false });
  store.ensureLayout();
});
afterEach(() => ws.cleanup());

function thrown(fn: () => unknown): NightshiftError | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err as NightshiftError;
  }
}

/** Queues `id`, then rewrites its task.json with `patch` (what an older or newer nightshift wrote). */
function storedWith(id: string, patch: Record<string, unknown>): string {
  store.enqueue(parseSpec(Buffer.from(specText({ id })), { file: `${id}.md`, config: ws.config }), {
    force: true,
  });
  const file = path.join(ws.paths.taskDir('pending', id), 'task.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...patch }, null, 2));
  return file;
}

describe('FailureCode', () => {
  it.each(FAILURE_CODES)('%s has its own rule in the table', (code) => {
    const rule = ruleFor(code);
    expect(rule).toBe(FAILURE_RULES[code]);
    expect(Object.values(Attribution)).toContain(rule.attribution);
    // Provider failures never use up a spec's attempts (core/failures.ts).
    if (rule.attribution === 'provider') expect(rule.chargesAttempt).toBe(false);
    // A failure that cannot be retried has nothing to charge an attempt for but the one it ended.
    if (!rule.retryable) expect(rule.crash ?? false).toBe(false);
  });

  it('knows every code and no misspelling of one', () => {
    expect(FAILURE_CODES.length).toBe(Object.keys(FAILURE_RULES).length);
    for (const code of FAILURE_CODES) expect(isFailureCode(code)).toBe(true);
    for (const wrong of ['exit-nonzer', 'crash', 'Auth', '', 'toString', '__proto__'])
      expect(isFailureCode(wrong), wrong).toBe(false);
    // @ts-expect-error -- a misspelt code does not compile (it used to read as "supervisor, not retryable")
    expect(() => ruleFor('exit-nonzer').attribution).toThrow();
  });
});

describe('ParkReason in task.json', () => {
  it.each(PARK_REASONS)('reads a record parked as %s, as every earlier nightshift wrote it', (reason) => {
    storedWith('alpha', { parked: reason });
    expect(store.get(parseTaskId('alpha')).parked).toBe(reason);
    expect(isParkReason(reason)).toBe(true);
  });

  it('refuses an unknown park reason with an error naming the file, the field and the known reasons', () => {
    const file = storedWith('alpha', { parked: 'needs-humans' });
    const err = thrown(() => store.get(parseTaskId('alpha')));
    expect(err).toBeInstanceOf(NightshiftError);
    expect(err?.code).toBe(ErrorCode.corruptTask);
    expect(err?.context).toMatchObject({ file, field: 'parked', taskId: 'alpha' });
    expect(err?.describe()).toContain('"needs-human"');
    expect(err?.describe()).toContain('found the text "needs-humans"');
    // Startup recovery lists it as refused (with the reason), and the listing leaves it out.
    const report = store.recover();
    expect(report.refused.map((r) => r.path)).toEqual([path.dirname(file)]);
    expect(report.refused[0]?.reason).toContain('needs-humans');
    expect(store.list()).toEqual([]);
  });

  it('refuses an unknown failure code read from disk, naming the attempt', () => {
    const file = storedWith('alpha', {
      state: 'pending',
      attempts: [
        {
          n: 1,
          provider: 'p',
          host: 'local',
          startedAt: '2026-11-26T22:00:00.000Z',
          endedAt: '2026-11-26T22:01:00.000Z',
          exitCode: 1,
          outcome: 'failed',
          attribution: 'spec',
          code: 'exit-nonzer',
          reason: 'x',
        },
      ],
    });
    const err = thrown(() => store.get(parseTaskId('alpha')));
    expect(err?.code).toBe(ErrorCode.corruptTask);
    expect(err?.context).toMatchObject({ file, field: 'attempts[0].code' });
    const failed = storedWith('beta', { failure: { code: 'oops', attribution: 'spec', reason: 'x' } });
    expect(thrown(() => store.get(parseTaskId('beta')))?.context).toMatchObject({
      file: failed,
      field: 'failure.code',
    });
  });
});

describe('TaskId at each boundary', () => {
  it('parseTaskId and isTaskId agree with idProblem', () => {
    for (const id of ['a', 'add-backoff', '0x', 'a'.repeat(63)]) {
      expect(isTaskId(id)).toBe(true);
      expect(parseTaskId(id)).toBe(id);
    }
    for (const id of ['', '-a', 'A', 'a_b', '../x', 'a'.repeat(64), 'pending', 'tmp', 'lock']) {
      expect(isTaskId(id), id).toBe(false);
      const err = thrown(() => parseTaskId(id, { file: 'where.json' }));
      expect(err?.code).toBe(ErrorCode.usage);
      expect(err?.describe()).toBe(`where.json: invalid task id: ${idProblem(id)}`);
    }
  });

  it('a spec: an id that is not one is a SpecError on the id field', () => {
    for (const id of ['Bad_Id', 'pending']) {
      const err = thrown(() => parseSpec(Buffer.from(specText({ id })), { file: 'x.md', config: ws.config }));
      expect(err).toBeInstanceOf(SpecError);
      expect((err as SpecError).issues[0]).toMatchObject({ file: 'x.md', field: 'id' });
    }
  });

  it('a CLI argument: refused before any request is written', async () => {
    for (const cmd of ['kill', 'retry', 'approve', 'reject', 'show']) {
      const r = await runCli([cmd, '../etc'], { cwd: ws.root, clock });
      expect(r.code, cmd).toBe(2);
      expect(r.stderr).toContain('not a task id');
    }
    expect(readdirSync(ws.paths.requests).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('a request file: a reserved name is refused as unreadable and kept, never looked up', async () => {
    // "pending" matches the id pattern but is one of the queue's own directories.
    const name = '000000000000001-1-aa.json';
    writeFileSync(
      path.join(ws.paths.requests, name),
      JSON.stringify({ request: { kind: 'kill', task: 'pending' }, at: '', by: 'test' }),
    );
    const [applied] = await applyPendingRequests({
      paths: ws.paths,
      config: ws.config,
      store,
      toggles: new ToggleStore(ws.paths),
      clock,
    });
    expect(applied?.outcome.ok).toBe(false);
    expect(applied?.outcome.message).toMatch(/^unreadable request 000000000000001-1-aa\.json: /);
    expect(applied?.outcome.message).toContain('expected a task id');
    expect(existsSync(path.join(ws.paths.requestsRejected, name))).toBe(true);
  });

  it('a directory listing: a name that is not a task id is refused, never read', () => {
    for (const name of ['Bad_Dir', 'tmp']) {
      mkdirSync(path.join(ws.paths.stateDir('pending'), name));
      writeFileSync(path.join(ws.paths.stateDir('pending'), name, 'task.json'), '{}');
    }
    const report = store.recover();
    expect(report.refused.map((r) => path.basename(r.path)).sort()).toEqual(['Bad_Dir', 'tmp']);
    expect(report.refused.every((r) => /not a valid task id/.test(r.reason))).toBe(true);
    expect(store.list()).toEqual([]);
  });

  it('a task.json whose id is not its directory’s is refused', () => {
    const file = storedWith('alpha', { id: 'beta' });
    const err = thrown(() => store.get(parseTaskId('alpha')));
    expect(err?.code).toBe(ErrorCode.corruptTask);
    expect(err?.context).toMatchObject({ file });
  });
});

describe('errors told apart by code', () => {
  it.each([
    [new LinkError('ssh to w2 failed: Connection refused', { host: 'w2' }), ErrorCode.linkDown, 1],
    [new BranchError('branch ns/a is gone from the mirror on w1'), ErrorCode.branchUnusable, 1],
    [new PromptTooLargeError('the prompt is 200000 bytes'), ErrorCode.promptTooLarge, 2],
  ] as const)('%s has its own stable code, kept through coerceError', (err, code, exit) => {
    expect(err.code).toBe(code);
    expect(err.exitCode).toBe(exit);
    expect(coerceError(err).code).toBe(code);
    // Its code, not its class name or message, is what callers branch on.
    expect(coerceError(Object.assign(new Error(err.message), { name: err.name })).code).toBe(
      ErrorCode.internal,
    );
  });

  it('lint says "no such file" from the errno, not from the message text', async () => {
    const r = await runCli(['lint', 'missing.md'], { cwd: ws.root, clock });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('missing.md: no such file');
  });
});

export type { FailureCode };
