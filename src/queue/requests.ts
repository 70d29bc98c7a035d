/**
 * Client requests (queue/requests/): add, kill, retry, approve, reject, freeze, thaw, gate, probe, and the
 * daemon's own stop and reload (daemon/control.ts). Clients
 * write them as atomic files; one applier (the daemon's, or the CLI's own under the workspace lock
 * when no daemon runs) applies them in name order and records each outcome in requests/.applied/.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { coerceError, ErrorCode, NightshiftError } from '../core/errors.js';
import { GATE_NAMES, type GateName } from '../core/gates.js';
import { TASK_ID_PATTERN, isTaskId, parseTaskId, type TaskId } from '../core/ids.js';
import { can } from '../core/can.js';
import { approvalTime, enterApproved, enterFailed, enterRequeued, type TaskRecord } from '../core/task.js';
import type { Clock } from '../lib/clock.js';
import { redactDeep } from '../lib/redact.js';
import type { Config } from '../config/schema.js';
import type { WorkspacePaths } from '../config/paths.js';
import { parseSpec } from '../spec/parse.js';
import {
  checkRealDir,
  ensureDir,
  FatalIoError,
  fsyncDir,
  moveAside,
  readRegularFile,
  uniqueSuffix,
  writeFileDurable,
  writeNewFileSync,
} from './fsx.js';
import type { QueueStore } from './store.js';
import type { ToggleStore } from './toggles.js';

const id = z.string().regex(TASK_ID_PATTERN);
/** A request file is a boundary: its task id is checked here, once, and read on as a TaskId. */
const taskId = z.custom<TaskId>((v) => typeof v === 'string' && isTaskId(v), 'expected a task id');
export const requestSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('add'),
    file: z.string(),
    text: z.string(),
    force: z.boolean(),
    /** Queue it even if `dependsOn` names an id not queued yet (it waits for it). */
    allowUnknownDeps: z.boolean().optional(),
  }),
  z.strictObject({ kind: z.literal('kill'), task: taskId, reason: z.string().optional() }),
  z.strictObject({ kind: z.literal('retry'), task: taskId }),
  z.strictObject({ kind: z.literal('approve'), task: taskId }),
  z.strictObject({ kind: z.literal('reject'), task: taskId, reason: z.string().optional() }),
  z.strictObject({ kind: z.literal('freeze'), provider: id.nullable() }),
  z.strictObject({ kind: z.literal('thaw'), provider: id.nullable() }),
  z.strictObject({ kind: z.literal('gate'), gate: z.enum(GATE_NAMES), enabled: z.boolean() }),
  z.strictObject({ kind: z.literal('probe'), provider: id }),
  /** Stop the daemon with this pid (a request left for a later daemon must not stop that one). */
  z.strictObject({ kind: z.literal('stop'), pid: z.number().int().positive() }),
  z.strictObject({ kind: z.literal('reload') }),
]);
export type Request = z.output<typeof requestSchema>;

export interface RequestEnvelope {
  request: Request;
  at: string;
  by: string;
}

export interface RequestOutcome {
  ok: boolean;
  message: string;
  task?: string;
  /** Error code when not ok. */
  code?: string;
  exitCode?: number;
  /** The file the message names first (its error's context), so a caller need not name it again. */
  file?: string;
}

/**
 * What `.applied/` keeps of a request: an `add` keeps its spec's hash and size, not its text (the task's
 * spec.md is the one copy of that text).
 */
export type RecordedRequest =
  | Exclude<Request, { kind: 'add' }>
  | {
      kind: 'add';
      file: string;
      force: boolean;
      allowUnknownDeps?: boolean;
      textSha256: string;
      textBytes: number;
    };

export interface AppliedRequest extends Omit<RequestEnvelope, 'request'> {
  request: RecordedRequest;
  name: string;
  outcome: RequestOutcome;
  appliedAt: string;
}

/** Writes a request file atomically; returns its name (also the key of its outcome). */
export function writeRequest(paths: WorkspacePaths, request: Request, clock: Clock): string {
  ensureDir(paths.requests);
  const name = `${String(clock.now()).padStart(15, '0')}-${uniqueSuffix()}.json`;
  const envelope: RequestEnvelope = {
    request,
    at: new Date(clock.now()).toISOString(),
    by: `pid ${process.pid}`,
  };
  const tmp = path.join(paths.requests, `.${name}.tmp`);
  writeNewFileSync(tmp, JSON.stringify(envelope), 0o600);
  renameSync(tmp, path.join(paths.requests, name));
  fsyncDir(paths.requests);
  return name;
}

export function readOutcome(paths: WorkspacePaths, name: string): AppliedRequest | null {
  try {
    return JSON.parse(
      readRegularFile(path.join(paths.requestsApplied, name), 4 * 1024 * 1024).toString('utf8'),
    ) as AppliedRequest;
  } catch {
    return null;
  }
}

/** Extra work the daemon does around some requests (salvage and kill a live session, say). */
export interface RequestHooks {
  beforeKill?(task: TaskRecord): Promise<void>;
  /** Probes a provider as soon as it can (the daemon's fleet); says what it did. */
  probe?(provider: string): RequestOutcome;
  /** Stops the daemon gracefully if it is the one with `pid` (daemon/control.ts). */
  stop?(pid: number): RequestOutcome;
  /** Re-reads and applies the config file, or keeps the old config and says why (daemon/control.ts). */
  reload?(): RequestOutcome;
}

export interface ApplierDeps {
  paths: WorkspacePaths;
  config: Config;
  store: QueueStore;
  toggles: ToggleStore;
  clock: Clock;
  hooks?: RequestHooks;
}

const STALE_TMP_MS = 60 * 60 * 1000;

/**
 * Applies every pending request in order. The caller holds the workspace lock. A request file that
 * cannot be read or parsed (a symlink, a FIFO, bad JSON, an unknown kind) is moved to requests/.rejected/
 * and kept; its outcome says so. A FatalIoError (an fsync failed) is never turned into an outcome: it
 * propagates, and the process stops.
 */
export async function applyPendingRequests(deps: ApplierDeps): Promise<AppliedRequest[]> {
  const { paths, clock } = deps;
  ensureDir(paths.requests);
  ensureDir(paths.requestsApplied);
  checkRealDir(paths.requestsRejected);
  const applied: AppliedRequest[] = [];
  const names = readdirSync(paths.requests).sort();
  for (const name of names) {
    const file = path.join(paths.requests, name);
    if (name.startsWith('.')) {
      if (name.endsWith('.tmp') && clock.now() - lstatSync(file).mtimeMs > STALE_TMP_MS) unlinkSync(file);
      continue;
    }
    const read = readRequestFile(file);
    let envelope: RequestEnvelope;
    let outcome: RequestOutcome;
    if ('error' in read) {
      const e = read.error;
      envelope = { request: { kind: 'retry', task: parseTaskId('invalid') }, at: '', by: '' };
      outcome = {
        ok: false,
        message: `unreadable request ${name}: ${e.message}; kept in queue/requests/.rejected/ — requests are written by nightshift's own commands; resend it with one of them`,
        code: e.code,
        exitCode: e.exitCode,
      };
    } else {
      envelope = read.envelope;
      outcome = await applyOne(deps, envelope.request);
    }
    const record: AppliedRequest = redactDeep(
      {
        ...envelope,
        request: recorded(envelope.request),
        name,
        outcome,
        appliedAt: new Date(clock.now()).toISOString(),
      },
      deps.store.redact,
    );
    writeFileDurable(
      path.join(paths.requestsApplied, name),
      JSON.stringify(record, null, 2),
      paths.tmp,
      0o600,
    );
    // A request that could not be read is kept for a person to look at; rename moves a link, never its target.
    if ('error' in read) moveAside(file, paths.requestsRejected, name);
    else unlinkSync(file);
    deps.store.emit({
      type: 'request.applied',
      time: record.appliedAt,
      request: name,
      kind: 'error' in read ? 'unreadable' : envelope.request.kind,
      ok: outcome.ok,
      reason: record.outcome.message,
      ...(outcome.task ? { task: outcome.task } : {}),
    });
    applied.push(record);
  }
  if (names.length) fsyncDir(paths.requests);
  return applied;
}

async function applyOne(deps: ApplierDeps, request: Request): Promise<RequestOutcome> {
  const { store, toggles, clock } = deps;
  try {
    switch (request.kind) {
      case 'add': {
        const parsed = parseSpec(Buffer.from(request.text, 'utf8'), {
          file: request.file,
          config: deps.config,
        });
        if (deps.config.lint.strict && parsed.warnings.length) {
          throw new NightshiftError(ErrorCode.invalidSpec, parsed.warnings.map((w) => w.message).join('; '), {
            file: request.file,
            hint: 'lint.strict is on: warnings are errors',
          });
        }
        const task = store.enqueue(parsed, {
          force: request.force,
          allowUnknownDeps: request.allowUnknownDeps === true,
        });
        return { ok: true, message: `queued ${task.id}`, task: task.id };
      }
      case 'kill': {
        const task = store.get(request.task);
        const allowed = can(task, 'kill');
        if (!allowed.ok) return refuse(allowed.reason, task.id);
        await deps.hooks?.beforeKill?.(task);
        store.transition(task.id, (t) =>
          enterFailed(t, {
            now: clock.now(),
            code: 'killed',
            attribution: 'supervisor',
            reason: request.reason ?? 'killed by request',
            outcome: 'killed',
          }),
        );
        return { ok: true, message: `killed ${task.id}`, task: task.id };
      }
      case 'retry': {
        const task = store.get(request.task);
        const allowed = can(task, 'retry');
        if (!allowed.ok) return refuse(allowed.reason, task.id);
        store.transition(task.id, (t) => enterRequeued(t, { now: clock.now(), reason: 'retry requested' }));
        return { ok: true, message: `${task.id} is pending again`, task: task.id };
      }
      case 'approve': {
        const task = store.get(request.task);
        const allowed = can(task, 'approve');
        if (!allowed.ok) return refuse(allowed.reason, task.id);
        store.transition(task.id, (t) =>
          enterApproved(t, {
            now: clock.now(),
            approvedAt: approvalTime(clock.now(), store.list()),
            by: 'human',
          }),
        );
        return { ok: true, message: `approved ${task.id}; it joins the merge queue`, task: task.id };
      }
      case 'reject': {
        const task = store.get(request.task);
        const allowed = can(task, 'reject');
        if (!allowed.ok) return refuse(allowed.reason, task.id);
        store.transition(task.id, (t) =>
          enterFailed(t, {
            now: clock.now(),
            code: 'rejected',
            attribution: 'spec',
            reason: request.reason ?? 'rejected by a person',
          }),
        );
        return { ok: true, message: `rejected ${task.id}`, task: task.id };
      }
      case 'freeze':
      case 'thaw': {
        const frozen = request.kind === 'freeze';
        if (request.provider !== null && !(request.provider in deps.config.providers)) {
          return refuseInput(
            `unknown provider "${request.provider}"; the config names: ${Object.keys(deps.config.providers).join(', ') || 'none'}`,
          );
        }
        toggles.setFrozen(frozen, request.provider);
        const what = request.provider ? `provider ${request.provider}` : 'dispatch';
        return {
          ok: true,
          message: `${what} ${frozen ? 'frozen: running work continues, nothing new starts' : 'thawed'}`,
        };
      }
      case 'probe': {
        if (!(request.provider in deps.config.providers)) {
          return refuseInput(
            `unknown provider "${request.provider}"; the config names: ${Object.keys(deps.config.providers).join(', ') || 'none'}`,
          );
        }
        if (!deps.hooks?.probe) {
          return refuse(
            `no daemon is running to probe ${request.provider}: start one (\`nightshift daemon\`), or probe from a shell with \`nightshift providers --probe\``,
          );
        }
        return deps.hooks.probe(request.provider);
      }
      case 'stop': {
        if (!deps.hooks?.stop)
          return refuse(`no daemon is running to stop (this request was for pid ${request.pid})`);
        return deps.hooks.stop(request.pid);
      }
      case 'reload': {
        if (!deps.hooks?.reload)
          return refuse('no daemon is running to reload its config; the next daemon reads it when it starts');
        return deps.hooks.reload();
      }
      case 'gate': {
        if (
          request.enabled &&
          (request.gate === 'tests' || request.gate === 'lint') &&
          !deps.config.gates[request.gate]
        ) {
          return refuse(
            `gate ${request.gate} has no command; set gates.${request.gate}.command in ${deps.paths.configFile} first`,
          );
        }
        toggles.setGate(request.gate, request.enabled);
        return {
          ok: true,
          message: `gate ${request.gate} ${request.enabled ? 'on' : 'off'} (applies to the next review)`,
        };
      }
    }
  } catch (err) {
    // The disk may have lost data: that stops the process, it is not a failed request.
    if (err instanceof FatalIoError) throw err;
    const e = coerceError(err);
    return {
      ok: false,
      message: e.describe(),
      code: e.code,
      exitCode: e.exitCode,
      ...(e.context.taskId ? { task: e.context.taskId } : {}),
      ...(e.context.file ? { file: e.context.file } : {}),
    };
  }
}

function recorded(request: Request): RecordedRequest {
  if (request.kind !== 'add') return request;
  const bytes = Buffer.from(request.text, 'utf8');
  return {
    kind: 'add',
    file: request.file,
    force: request.force,
    ...(request.allowUnknownDeps ? { allowUnknownDeps: true } : {}),
    textSha256: createHash('sha256').update(bytes).digest('hex'),
    textBytes: bytes.length,
  };
}

/** Reads and validates one request file; read and parse errors are returned, fatal ones thrown. */
function readRequestFile(file: string): { envelope: RequestEnvelope } | { error: NightshiftError } {
  try {
    const raw = JSON.parse(readRegularFile(file, 4 * 1024 * 1024).toString('utf8')) as {
      request?: unknown;
      at?: unknown;
      by?: unknown;
    };
    const request = requestSchema.parse(raw?.request);
    return {
      envelope: {
        request,
        at: typeof raw.at === 'string' ? raw.at : '',
        by: typeof raw.by === 'string' ? raw.by : '',
      },
    };
  } catch (err) {
    if (err instanceof FatalIoError) throw err;
    return { error: coerceError(err) };
  }
}

/** Invalid input (a name the config does not know): exit 2, like every other invalid input. */
function refuseInput(message: string): RequestOutcome {
  return { ok: false, message, code: ErrorCode.usage, exitCode: 2 };
}

function refuse(message: string, task?: string): RequestOutcome {
  return { ok: false, message, code: ErrorCode.invalidTransition, exitCode: 1, ...(task ? { task } : {}) };
}

export type { GateName };
