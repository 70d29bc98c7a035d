/**
 * One gate run of the judgment pipeline (docs/gates.md#isolation): a fresh isolated checkout of the
 * commit, the gates in it under the configured sandbox, and the supervisor's protected refs compared
 * before and after. A ref that changed is put back (compare-and-swap) and reported: the caller fails the
 * task, whose code is what ran.
 */
import type { Config } from '../config/schema.js';
import type { GateName } from '../core/gates.js';
import type { GateResult, TaskRecord } from '../core/task.js';
import { prepareGateCheckout } from '../git/gate-checkout.js';
import type { Repo } from '../git/repo.js';
import { LocalRunner } from '../hosts/runner.js';
import {
  describeIsolation,
  probeBwrap,
  resolveSandbox,
  type GateSandbox,
  type SandboxProbe,
} from '../hosts/sandbox.js';
import { runBeforeGate } from '../review/before-gate.js';
import { runGates } from '../review/gates.js';
import type { BaseSuitePort } from '../review/suite-gates.js';

/** A protected ref of the supervisor's repo that a gate run changed; null for absent. */
export interface RefChange {
  ref: string;
  from: string | null;
  to: string | null;
  restored: boolean;
}

export interface GateRunResult {
  results: GateResult[];
  /** Empty unless the branch's code changed the supervisor's refs. */
  touched: RefChange[];
}

/** The refs whose value differs between two snapshots, by name. */
export function refChanges(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): Omit<RefChange, 'restored'>[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  return names
    .map((ref) => ({ ref, from: before.get(ref) ?? null, to: after.get(ref) ?? null }))
    .filter((c) => c.from !== c.to);
}

export class GateRuns {
  private probe?: Promise<SandboxProbe | null>;

  constructor(
    private readonly deps: {
      config: Config;
      env: NodeJS.ProcessEnv;
      log: (line: string) => void;
      /** Whether bwrap works here; probeBwrap on this machine by default. */
      probe?: () => Promise<SandboxProbe>;
    },
  ) {}

  /** The sandbox in force; throws (naming gates.sandbox and the fix) when bwrap is configured but broken. */
  async sandbox(): Promise<GateSandbox> {
    const { sandbox: mode, network } = this.deps.config.gates;
    const probe = this.deps.probe ?? (() => probeBwrap(new LocalRunner()));
    this.probe ??= (mode === 'none' ? Promise.resolve(null) : probe()).then((probe) => {
      this.deps.log(`gates run in isolation: ${describeIsolation(mode, network, probe)}`);
      return probe;
    });
    return resolveSandbox(mode, network, await this.probe);
  }

  /**
   * Runs `enabled` on `commit` in a fresh checkout at `dir`, and checks the supervisor's refs around it.
   * `base` is the commit the diff starts from.
   */
  async run(opts: {
    task: TaskRecord;
    repo: Repo;
    dir: string;
    commit: string;
    base: string;
    enabled: readonly GateName[];
    specText: string;
    /**
     * ns/ branches that nothing may move during the run (those of tasks in review: what they were judged
     * on is what merges), checked with the protected refs.
     */
    watched?: readonly string[];
    /** The base's suite, for tests-kept (run in its own checkout inside the same refs check). */
    baseSuite?: BaseSuitePort;
    /** The gate log the repo's beforeGate hook writes to. */
    hookLog?: string;
  }): Promise<GateRunResult> {
    // No gate on: nothing to check out, and no code of the branch runs.
    if (opts.enabled.length === 0) return { results: [], touched: [] };
    const sandbox = await this.sandbox();
    const checkout = await prepareGateCheckout(opts.repo.dir, opts.dir, opts.commit);
    const watched = opts.watched ?? [];
    const before = await opts.repo.protectedRefs(watched);
    let results: GateResult[] = [];
    let failure: { err: unknown } | null = null;
    try {
      const isolation = { sandbox, readable: [checkout.objects] };
      await runBeforeGate({
        config: this.deps.config,
        env: this.deps.env,
        repo: opts.task.spec.repo,
        taskId: opts.task.id,
        checkout: checkout.dir,
        isolation,
        log: opts.hookLog ?? `${opts.dir}.before-gate.log`,
      });
      results = await runGates({
        worktree: checkout.dir,
        base: opts.base,
        head: opts.commit,
        task: opts.task,
        specText: opts.specText,
        config: this.deps.config,
        enabled: opts.enabled,
        env: this.deps.env,
        isolation,
        ...(opts.baseSuite ? { baseSuite: opts.baseSuite } : {}),
      });
    } catch (err) {
      failure = { err };
    }
    // Checked and put back even when the gates threw: the branch's code ran all the same.
    const touched = await this.restore(opts.repo, before, watched);
    if (failure && touched.length === 0) throw failure.err;
    return { results, touched };
  }

  /** Puts back every protected ref that differs from `before`, and says which did (the caller blames). */
  async restore(
    repo: Repo,
    before: ReadonlyMap<string, string>,
    watched: readonly string[],
  ): Promise<RefChange[]> {
    const changes = refChanges(before, await repo.protectedRefs(watched));
    const out: RefChange[] = [];
    for (const c of changes) out.push({ ...c, restored: await repo.restoreRef(c.ref, c.from, c.to) });
    return out;
  }
}
