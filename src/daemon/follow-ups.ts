/**
 * Follow-up specs during the night (docs/architect.md#follow-ups). Each task that ends, failed or parked
 * for a person, is considered once: decideFollowUp (core/follow-up.ts) says whether the architect drafts
 * a follow-up; if so it is asked in the background (never blocking the loop), its answer linted strictly
 * (repaired once), checked against the queue's and the drafts' dedup, and written to specs/drafts/ (or
 * straight into the inbox with `autoQueue`). A failing call is logged and forgotten: the original task is
 * never touched. Each draft is an `architect.follow-up` event, which the morning report lists.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveRepoPath } from '../config/paths.js';
import { coerceError } from '../core/errors.js';
import type { NightshiftEvent } from '../core/events.js';
import {
  decideFollowUp,
  followUpCause,
  followUpDepth,
  NIGHT_MS,
  type FollowUpDecision,
} from '../core/follow-up.js';
import { graphOf } from '../core/dependencies.js';
import type { TaskId } from '../core/ids.js';
import type { TaskRecord } from '../core/task.js';
import { draftDuplicate, writeSpecFile } from '../queue/drafts.js';
import type { ArchitectWriter } from '../review/architect-writer.js';
import { followUpSpec } from '../review/planner.js';
import { checkSpec } from '../spec/parse.js';
import { isoNow, type DaemonContext } from './context.js';
import { recordArchitectUsage } from './spend.js';

/** How much of the end of logs/events.jsonl is read at start for the follow-ups of the last 24 hours. */
const SEED_BYTES = 4 * 1024 * 1024;

export class FollowUps {
  private readonly drafted: { at: number; origin: string }[] = [];
  /** Tasks already considered (by id and how they ended): each end is considered once. */
  private readonly considered = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly ctx: DaemonContext,
    private readonly writer: ArchitectWriter | null,
  ) {
    this.seed();
  }

  /** The supervisor's event listener: a task that failed or parked may get a follow-up. */
  onEvent(e: NightshiftEvent): void {
    if (!this.writer || (e.type !== 'task.transition' && e.type !== 'task.updated')) return;
    let task: TaskRecord;
    try {
      task = this.ctx.store.get(e.task as TaskId);
    } catch {
      return;
    }
    if (task.state !== 'failed' && !(task.state === 'review' && task.parked)) return;
    const key = `${task.id}\0${task.state}\0${task.parked ?? ''}\0${task.failure?.code ?? ''}`;
    if (this.considered.has(key)) return;
    this.considered.add(key);
    const decision = decideFollowUp({
      task,
      depth: followUpDepth(task.id, (id) => this.followUpOf(id)),
      drafted: this.drafted,
      now: this.ctx.clock.now(),
      policy: this.ctx.config.architect.followUps,
    });
    if (!decision.draft) {
      if (this.ctx.config.architect.followUps.enabled && followUpCause(task)) {
        this.ctx.log(`architect: no follow-up of ${task.id}: ${decision.reason}`);
      }
      return;
    }
    // Counted now, so the calls in flight count against maxPerNight too.
    const slot = { at: this.ctx.clock.now(), origin: task.id };
    this.drafted.push(slot);
    const run = this.draft(task, decision).catch((err: unknown) => {
      this.ctx.log(`architect: follow-up of ${task.id} failed: ${coerceError(err).describe()}`);
    });
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Resolves once every follow-up in flight has finished (tests, and a stopping daemon). */
  async settle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async draft(task: TaskRecord, decision: Extract<FollowUpDecision, { draft: true }>): Promise<void> {
    const { ctx } = this;
    const writer = this.writer;
    if (!writer) return;
    const review = task.review
      ? [
          task.review.summary,
          ...task.review.findings.map(
            (f) => `${f.file}${f.line ? `:${f.line}` : ''} [${f.severity}] ${f.text}`,
          ),
        ].join('\n')
      : '';
    const gates = task.gates.map((g) => `${g.name}: ${g.passed ? 'pass' : 'FAIL'}: ${g.evidence}`).join('\n');
    const reason = decision.cause;
    ctx.log(`architect: drafting a follow-up of ${task.id} (${decision.cause})`);
    const result = await followUpSpec({
      original: {
        id: task.id,
        specText: ctx.store.specText(task.id),
        reason: ctx.redact(reason),
        review: ctx.redact(review),
        gates: ctx.redact(gates),
        queued: ctx.store.list().map((t) => t.id),
      },
      repo: task.spec.repo,
      config: ctx.config,
      queued: graphOf(ctx.store.list()),
      writer,
      ...this.checkout(task.spec.repo),
    });
    // The call's tokens are the architect's share of the night whatever came of it (spend.ts).
    if (result.usage) {
      try {
        recordArchitectUsage(ctx, task.id, result.usage, { kind: 'follow-up' });
      } catch (err) {
        ctx.log(
          `architect: the follow-up's usage was not recorded on ${task.id}: ${coerceError(err).describe()}`,
        );
      }
    }
    for (const d of result.dropped)
      ctx.log(`architect: follow-up ${d.id} of ${task.id} dropped: ${d.reason}`);
    if (result.failure) {
      ctx.log(`architect: no follow-up of ${task.id}: ${result.failure}`);
      return;
    }
    const [draft] = result.drafts;
    if (!draft) {
      ctx.log(`architect: no follow-up of ${task.id}: ${result.note ?? 'every draft failed lint'}`);
      return;
    }
    const parsed = checkSpec(Buffer.from(draft.text), { file: `${draft.id}.md`, config: ctx.config }).spec;
    const dup = parsed ? draftDuplicate(ctx.paths, ctx.config, ctx.store, parsed.dedupKey) : null;
    if (dup) {
      ctx.log(`architect: follow-up ${draft.id} of ${task.id} not written: ${dup}`);
      return;
    }
    const dir = decision.autoQueue ? ctx.paths.specs : ctx.paths.drafts;
    const name = writeSpecFile(dir, draft.id, draft.text);
    const where = path.relative(ctx.paths.root, path.join(dir, name));
    ctx.events.emit({
      type: 'architect.follow-up',
      time: isoNow(ctx),
      task: draft.id,
      origin: task.id,
      reason: `${decision.cause}; ${decision.autoQueue ? 'queued as' : 'drafted in'} ${where}${result.note ? `: ${result.note}` : ''}`,
    });
    if (decision.autoQueue) ctx.wake();
  }

  /** Where the task's repository is, for a writer that explores its main (claude-code). */
  private checkout(name: string): { checkout?: { name: string; dir: string; main: string } } {
    const repo = this.ctx.config.repos[name];
    if (!repo) return {};
    return {
      checkout: { name, dir: resolveRepoPath(this.ctx.paths.root, repo.path, os.homedir()), main: repo.main },
    };
  }

  /** A queued task's `followUpOf`, from its spec (null when none, or it cannot be read). */
  private followUpOf(id: string): string | null {
    try {
      const text = this.ctx.store.specText(id as TaskId, { raw: true });
      return (
        checkSpec(Buffer.from(text), { file: `${id}.md`, config: this.ctx.config }).spec?.followUpOf ?? null
      );
    } catch {
      return null;
    }
  }

  /** The follow-ups of the last 24 hours, from the end of the event log: a restart does not reset the count. */
  private seed(): void {
    const file = this.ctx.paths.events;
    let text: string;
    try {
      const size = statSync(file).size;
      const start = Math.max(0, size - SEED_BYTES);
      const buf = Buffer.alloc(size - start);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, start);
      } finally {
        closeSync(fd);
      }
      text = buf.toString('utf8');
    } catch {
      return;
    }
    const now = this.ctx.clock.now();
    for (const line of text.split('\n')) {
      if (!line.includes('"architect.follow-up"')) continue;
      try {
        const e = JSON.parse(line) as { type?: unknown; time?: unknown; origin?: unknown };
        const at = typeof e.time === 'string' ? Date.parse(e.time) : NaN;
        if (e.type === 'architect.follow-up' && typeof e.origin === 'string' && now - at < NIGHT_MS) {
          this.drafted.push({ at, origin: e.origin });
        }
      } catch {
        continue;
      }
    }
  }
}
