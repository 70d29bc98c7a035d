/**
 * What the review pipeline (review-pipeline.ts) and the merge queue (merge-queue.ts) share: their
 * dependencies, where a task's repo and branch are, the record updates both make (a note, a round sent
 * back), and the one way either runs gates — runGates, which builds the gate call and fails the task
 * when its code changed the supervisor's refs meanwhile.
 */
import os from 'node:os';
import type { TaskId } from '../core/ids.js';
import type { GateName } from '../core/gates.js';
import { enterChanges, enterFailed, updateTask, type Review, type TaskRecord } from '../core/task.js';
import type { Clock } from '../lib/clock.js';
import type { Redactor } from '../lib/redact.js';
import { resolveRepoPath, type WorkspacePaths } from '../config/paths.js';
import { defaultRepoConfig, type Config } from '../config/schema.js';
import { Repo } from '../git/repo.js';
import type { WorkerHost } from '../hosts/worker.js';
import type { EventSink } from '../queue/eventlog.js';
import type { FatalIoError } from '../queue/fsx.js';
import type { QueueStore } from '../queue/store.js';
import type { ToggleStore } from '../queue/toggles.js';
import type { BaseSuitePort } from '../review/suite-gates.js';
import { GateRuns } from './gate-runs.js';

export interface JudgmentDeps {
  paths: WorkspacePaths;
  config: Config;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  store: QueueStore;
  toggles: ToggleStore;
  events: EventSink;
  hosts: Map<string, WorkerHost>;
  log: (line: string) => void;
  /** Removes known secret values from anything sent to the architect. */
  redact: Redactor;
  /** A graded verdict is in the task records (grade feedback is rebuilt from them: grades.ts). */
  onGraded: () => void;
  /** Something changed that may unblock dispatch (a merge, a task back to pending). */
  wake: () => void;
  /** An fsync failed: the queue may have lost data. The loop stops; the owner stops the process. */
  onFatal?: (err: FatalIoError) => void;
}

/** A task of review waits for a person: its rounds are used up. */
export const PARK_HUMAN = 'needs-human';

/** Where a gate run happens: the review's checkout of the branch, or the merge queue's staging. */
export type GateStage = 'review' | 'staging';

export interface GateCall {
  task: TaskRecord;
  repo: Repo;
  stage: GateStage;
  commit: string;
  base: string;
  enabled: readonly GateName[];
  /** The base's suite, for tests-kept (the review only). */
  baseSuite?: BaseSuitePort;
}

export interface Located {
  repo: Repo;
  repoCfg: Config['repos'][string];
  /** ns/<id> in the supervisor's repo; null when it is missing. */
  tip: string | null;
  base: string;
}

export class JudgmentContext {
  readonly gateRuns: GateRuns;

  constructor(readonly deps: JudgmentDeps) {
    this.gateRuns = new GateRuns({ config: deps.config, env: deps.env, log: deps.log });
  }

  /**
   * Runs `call.enabled` on `call.commit` in the stage's isolated checkout, watching the branches of
   * every task in review. Null when the branch's code changed the supervisor's refs (they are put back
   * and the task has failed: refsTouched); the gates' results otherwise.
   */
  async runGates(call: GateCall) {
    const { task, stage } = call;
    const run = await this.gateRuns.run({
      task,
      repo: call.repo,
      watched: this.reviewBranches(task),
      dir:
        stage === 'review'
          ? this.deps.paths.gateCheckout(task.spec.repo, task.id)
          : this.deps.paths.stagingGateCheckout(task.spec.repo),
      commit: call.commit,
      base: call.base,
      enabled: call.enabled,
      specText: this.deps.store.specText(task.id),
      hookLog: this.deps.paths.beforeGateLog(task.id),
      ...(call.baseSuite ? { baseSuite: call.baseSuite } : {}),
    });
    if (run.touched.length === 0) return run.results;
    this.refsTouched(task, run.touched, stage === 'review' ? 'the review' : 'the merge queue');
    return null;
  }

  /**
   * Runs `fn` (something that may run the branch's code outside a gate run: the claude-code architect's
   * gate commands) inside the same refs check as a gate run. Null when the refs changed: they are put
   * back and the task has failed (refsTouched).
   */
  async guardRefs<T>(task: TaskRecord, repo: Repo, during: string, fn: () => Promise<T>): Promise<T | null> {
    const watched = this.reviewBranches(task);
    const before = await repo.protectedRefs(watched);
    const out = await fn();
    const touched = await this.gateRuns.restore(repo, before, watched);
    if (touched.length === 0) return out;
    this.refsTouched(task, touched, during);
    return null;
  }

  /**
   * The branches a gate run must not move besides the protected refs: ns/<id> of every task of this
   * repo in review, this one's included, as each merges what its branch holds when its turn comes. Other
   * ns/ branches may be fetched meanwhile (running tasks' collection).
   */
  private reviewBranches(task: TaskRecord): string[] {
    return this.deps.store
      .list()
      .filter((t) => t.state === 'review' && t.spec.repo === task.spec.repo)
      .map((t) => `refs/heads/ns/${t.id}`);
  }

  /**
   * A gate run changed the supervisor's refs: each change (already put back) is recorded as a
   * `main.restored` event, and the task fails as `main-touched`, charged to the spec.
   */
  private refsTouched(
    task: TaskRecord,
    touched: { ref: string; from: string | null; to: string | null; restored: boolean }[],
    during: string,
  ): void {
    const time = new Date(this.deps.clock.now()).toISOString();
    for (const c of touched) {
      this.deps.events.emit({
        type: 'main.restored',
        time,
        task: task.id,
        host: 'supervisor',
        ref: c.ref,
        old: c.from,
        new: c.to,
        attributed: true,
        reason: `${c.ref} in the supervisor's repo changed from ${c.from ?? 'absent'} to ${c.to ?? 'absent'} while the gates of ${task.id} ran in ${during}: the branch's code did it; ${c.restored ? 'restored' : 'could not be restored: set it back by hand'}`,
      });
    }
    const [first] = touched;
    const more = touched.length > 1 ? ` and ${touched.length - 1} more ref(s)` : '';
    const reason = `the branch's code changed the supervisor's refs while its gates ran (${first?.ref}${more}, in ${during}); ${touched.every((c) => c.restored) ? 'restored' : 'NOT all restored: see the main.restored events'}; the branch is never merged`;
    this.deps.log(`${task.id}: ${reason}`);
    this.deps.store.transition(task.id, (t) =>
      enterFailed(t, { now: this.deps.clock.now(), code: 'main-touched', attribution: 'spec', reason }),
    );
  }

  /** `changes`: another round on the same branch, or parked for a person when the rounds are used up. */
  sendBack(task: TaskRecord, review: Review, patch: Partial<TaskRecord> = {}): void {
    const now = this.deps.clock.now();
    if (task.round < task.spec.reviewRounds) {
      this.deps.store.transition(task.id, (t) =>
        enterChanges({ ...t, ...patch, review }, { now, reason: review.summary.slice(0, 200) }),
      );
    } else {
      this.update(task.id, `review rounds used up (${task.spec.reviewRounds}): ${review.summary}`, {
        ...patch,
        review,
        parked: PARK_HUMAN,
      });
    }
  }

  /** The configured hosts the task's attempts ran on, each once. */
  attemptHosts(task: TaskRecord): WorkerHost[] {
    return [...new Set(task.attempts.map((a) => a.host))].flatMap((h) => this.deps.hosts.get(h) ?? []);
  }

  async locate(task: TaskRecord): Promise<Located> {
    const repoCfg = this.deps.config.repos[task.spec.repo] ?? defaultRepoConfig('.');
    const repo = new Repo(resolveRepoPath(this.deps.paths.root, repoCfg.path, os.homedir()));
    const tip = await repo.revParse(`refs/heads/ns/${task.id}`);
    const base = task.baseSha ?? (await repo.revParse(task.spec.base)) ?? task.spec.base;
    return { repo, repoCfg, tip, base };
  }

  update(id: TaskId, reason: string, patch: Partial<TaskRecord>): void {
    this.deps.store.transition(id, (t) => updateTask(t, this.deps.clock.now(), reason, patch));
  }
}

/** A gate failure as a finding of a `changes` review. */
export function gateFindings(failed: readonly { name: string; evidence: string }[]): Review['findings'] {
  return failed.map((g) => ({
    file: '(gate)',
    line: null,
    severity: 'major',
    text: `${g.name}: ${g.evidence}`,
  }));
}
