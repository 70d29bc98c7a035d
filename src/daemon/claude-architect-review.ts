/**
 * The review pipeline's claude-code architect (docs/architect.md, "claude-code"): a fresh isolated
 * checkout of the branch's tip (git/gate-checkout.ts: no ref of the supervisor's repository), a Claude
 * Code session in it in the architect's tmux session (so the TUI shows its pane and `a` attaches), the
 * session id kept on the task so the next round resumes it, and the architect events around it.
 */
import type { WorkspacePaths } from '../config/paths.js';
import type { TaskRecord } from '../core/task.js';
import type { Usage } from '../core/usage.js';
import { prepareGateCheckout } from '../git/gate-checkout.js';
import type { Repo } from '../git/repo.js';
import { architectSessionName } from '../hosts/tmux.js';
import type { ReviewInput, Verdict } from '../review/architect-prompt.js';
import type { ArchitectSessions } from '../review/architect-tmux.js';
import { tmuxArchitectSessions } from '../review/claude-writer.js';
import { reviewWithClaude } from '../review/claude-review.js';
import type { JudgmentContext } from './judgment-context.js';

/**
 * Null when the session's gate commands moved the supervisor's refs (the task has failed already) or
 * the daemon stopped the session (the task stays in review, unjudged).
 */
export type ArchitectAnswer =
  | { ok: true; verdict: Verdict; usage: Usage | null }
  | { ok: false; reason: string; attribution: 'supervisor'; usage?: Usage | null }
  | null;

/**
 * The tmux sessions on the supervisor's host, on the architect's socket: what askClaudeArchitect's
 * `sessions` is in the daemon (reviews here; planning can take the same).
 */
export function localArchitectSessions(
  paths: Pick<WorkspacePaths, 'architectDir'>,
  env: NodeJS.ProcessEnv,
): ArchitectSessions {
  return tmuxArchitectSessions(paths, env);
}

export class ClaudeArchitectReview {
  constructor(
    private readonly ctx: JudgmentContext,
    private readonly sessions: ArchitectSessions = localArchitectSessions(ctx.deps.paths, ctx.deps.env),
  ) {}

  /** The daemon stops: the session in progress ends now, and its task is judged again at the next start. */
  async stop(): Promise<void> {
    await this.sessions.stop?.();
  }

  async review(task: TaskRecord, repo: Repo, tip: string, input: ReviewInput): Promise<ArchitectAnswer> {
    const { deps } = this.ctx;
    // Fresh: the gates' run of the branch's code may have changed the checkout they left.
    const checkout = await prepareGateCheckout(
      repo.dir,
      deps.paths.gateCheckout(task.spec.repo, task.id),
      tip,
    );
    const session = architectSessionName('review');
    const resume = task.architectSession ?? undefined;
    const time = () => new Date(deps.clock.now()).toISOString();
    deps.events.emit({
      type: 'architect.started',
      time: time(),
      task: task.id,
      round: task.round,
      mode: 'claude-code',
      session,
      reason: `the claude-code architect reviews ${task.id} (round ${task.round + 1}${resume ? ', resuming its session' : ''}) in tmux session ${session}`,
    });
    // The session may run the gate commands, which run the branch's code: the refs check of a gate run.
    const r = await this.ctx.guardRefs(task, repo, "the claude-code architect's session", () =>
      reviewWithClaude(
        { ...input, cwd: checkout.dir, ...(resume ? { resume } : {}) },
        {
          config: deps.config,
          env: deps.env,
          architectDir: deps.paths.architectDir,
          session,
          sessions: this.sessions,
          log: (l) => deps.log(`architect: ${deps.redact(l)}`),
          root: process.getuid?.() === 0,
        },
      ),
    );
    // Refs moved (the task has failed), or the daemon is stopping: the task waits in review as it was.
    if (!r || (!r.ok && r.code === 'stopped')) return null;
    if (r.sessionId && r.sessionId !== task.architectSession) {
      this.ctx.update(task.id, `architect session ${r.sessionId}`, { architectSession: r.sessionId });
    }
    deps.events.emit({
      type: 'architect.verdict',
      time: time(),
      task: task.id,
      round: task.round,
      grade: r.ok ? r.verdict.grade : null,
      verdict: r.ok ? r.verdict.verdict : 'unavailable',
      reason: r.ok ? deps.redact(r.verdict.summary) : r.reason,
    });
    return r.ok
      ? { ok: true, verdict: r.verdict, usage: r.usage }
      : { ok: false, reason: r.reason, attribution: r.attribution, usage: r.usage ?? null };
  }
}
