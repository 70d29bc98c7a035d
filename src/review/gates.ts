/**
 * The quality gates (DESIGN.md §8): which are on for a task, and running them in a checkout of the
 * branch, in the fixed order of GATE_NAMES. Each gate is a pass/fail with evidence: what failed, trimmed
 * to about 4 KB, and what to do about it — the executor reads it in its next round (evidence.ts).
 *
 * Gates never use a shell for git: what they read from git is read through gate-git.ts, all of it before
 * the first gate command runs: the branch's code may rewrite the checkout's `.git` (a hook, a config),
 * and our git must never run what it planted. The tests and lint commands are the operator's, from
 * nightshift.config.yaml, run in isolation (isolation.ts). The gates that judge git history alone are
 * in diff-gates.ts.
 */
import { statSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { secretRedactor } from '../config/secrets.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { GATE_NAMES, type GateName } from '../core/gates.js';
import type { GateResult, TaskRecord, TaskSpec } from '../core/task.js';
import type { GateSandbox } from '../hosts/sandbox.js';
import type { Redactor } from '../lib/redact.js';
import type { Toggles } from '../queue/toggles.js';
import { commitsVerdict, deletionsVerdict, diffBudgetVerdict } from './diff-gates.js';
import { clean, clip, EVIDENCE_LIMIT, tail, type Verdict } from './evidence.js';
import { GateGit } from './gate-git.js';
import { gateEnvironment, runIsolated } from './isolation.js';
import { addedMentions, namedTestStatus, type NamedTestStatus } from './named-tests.js';
import {
  baseSuiteCount,
  CONSOLE_SOURCE,
  runSuite,
  secretsGate,
  suiteCount,
  type BaseSuitePort,
  type CommandOutcome,
  type SuiteOutcome,
} from './suite-gates.js';
import { testsKeptVerdict } from './tests-kept.js';

export { EVIDENCE_LIMIT, tail } from './evidence.js';

/** The schema's defaults, for a gate turned on by a toggle without a config section. */
const DEFAULTS = { testsTimeout: '20m', lintTimeout: '10m' };

/**
 * The gates on for this task: each gate's config `enabled` flag, overridden by a persisted toggle
 * (`nightshift gate on|off`), then restricted to the spec's `gates:` list when it has one. A gate with no
 * config section is off unless toggled on. Always in GATE_NAMES order.
 */
export function enabledGates(config: Config, toggles: Toggles, spec: TaskSpec): GateName[] {
  return GATE_NAMES.filter((name) => {
    const on = toggles.gates[name] ?? config.gates[name]?.enabled ?? false;
    return on && (!spec.gates || spec.gates.includes(name));
  });
}

export interface GateContext {
  /**
   * A checkout of the branch at `head`, where the commands run: the supervisor passes an isolated one
   * (git/gate-checkout.ts) that holds no ref of its repository.
   */
  worktree: string;
  /** The commit the branch started from (the diff is `base..head`). */
  base: string;
  head: string;
  task: TaskRecord;
  /** The spec's text: removals it names are allowed by the deletions gate. */
  specText: string;
  config: Config;
  /** The gates to run (enabledGates); they run in GATE_NAMES order whatever the order here. */
  enabled: readonly GateName[];
  /** Monotonic milliseconds, for each gate's duration; performance.now by default. */
  clock?: () => number;
  /**
   * The supervisor's environment: the gate commands get PATH, HOME, LANG and the gates.env names from it
   * (nothing else), and its secret values are redacted from the evidence and looked for by the secrets
   * gate; process.env by default.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * The sandbox the commands run in, and the directories it must leave readable (the object directory
   * the checkout borrows through its alternates). No sandbox by default.
   */
  isolation?: { sandbox: GateSandbox; readable: readonly string[] };
  /** The base's suite, for the tests-kept gate's count; without it, tests-kept cannot count (and throws). */
  baseSuite?: BaseSuitePort;
}

/** A gate command's run: its output is stdout and stderr, interleaved as printed, without terminal escapes. */
type CommandRun = CommandOutcome;

/**
 * Runs the enabled gates in order and returns one result per gate. A gate fails on what the branch did;
 * a git failure (the worktree or a commit is missing) is the supervisor's and throws a NightshiftError.
 */
export async function runGates(ctx: GateContext): Promise<GateResult[]> {
  const order = GATE_NAMES.filter((name) => ctx.enabled.includes(name));
  if (order.length === 0) return [];
  if (!statSync(ctx.worktree, { throwIfNoEntry: false })?.isDirectory()) {
    throw new NightshiftError(ErrorCode.io, `the gate worktree ${ctx.worktree} does not exist`, {
      taskId: ctx.task.id,
      hint: 'the supervisor must check the branch out before running the gates',
    });
  }
  const clock = ctx.clock ?? (() => performance.now());
  const run = new GateRun(ctx);
  await run.readGit(order);
  const results: GateResult[] = [];
  for (const name of order) {
    const started = clock();
    const verdict = await run.gate(name);
    results.push({
      name,
      passed: verdict.passed,
      durationMs: Math.max(0, Math.round(clock() - started)),
      evidence: clip(run.redact(verdict.evidence)),
    });
  }
  return results;
}

/** One run of the gates: shares the tests command's output and the diff between gates. */
class GateRun {
  /** Environment for gate commands: the allow-list only (isolation.ts). */
  private readonly env: Record<string, string>;
  readonly redact: Redactor;
  private tests?: Promise<SuiteOutcome | null>;
  /** What the gates read from git, each read once. */
  private readonly git: GateGit;

  constructor(private readonly ctx: GateContext) {
    // The branch's code runs under the gate commands: it gets PATH, HOME, LANG, CI and gates.env, never
    // the supervisor's other variables (its secrets least of all).
    this.env = gateEnvironment(ctx.config, ctx.env ?? process.env);
    this.redact = secretRedactor(ctx.config, ctx.env ?? process.env);
    this.git = new GateGit(ctx.worktree, ctx.base, ctx.head, ctx.task.id);
  }

  /** Everything the gates in `order` read from git, read now, before any gate command runs. */
  async readGit(order: readonly GateName[]): Promise<void> {
    const reads: Promise<unknown>[] = [];
    if (order.some((g) => g === 'named-tests' || g === 'deletions')) reads.push(this.git.diffFiles());
    if (order.includes('diff')) reads.push(this.git.numstatText());
    if (order.includes('commits')) reads.push(this.git.commitCount());
    await Promise.all(reads);
  }

  gate(name: GateName): Promise<Verdict> {
    switch (name) {
      case 'tests':
        return this.commandGate('tests');
      case 'lint':
        return this.commandGate('lint');
      case 'named-tests':
        return this.namedTests();
      case 'diff':
        return this.git.numstatText().then((numstat) => diffBudgetVerdict(this.ctx.config, numstat));
      case 'deletions':
        return this.git.diffFiles().then((files) => deletionsVerdict(files, this.ctx.specText));
      case 'commits':
        return this.commits();
      case 'tests-kept':
        return this.testsKept();
      case 'secrets':
        return this.git.range().then((range) =>
          secretsGate({
            config: this.ctx.config,
            env: this.ctx.env ?? process.env,
            range,
            git: (args) => this.git.run(args),
          }),
        );
    }
  }

  // ---- commands ------------------------------------------------------------------------------

  /** The tests command on the head, once per gate run, with its results (from the report if configured). */
  private testsRun(): Promise<SuiteOutcome | null> {
    return (this.tests ??= this.suite(this.ctx.worktree));
  }

  /** The tests command in `dir` (the head's worktree, or the base's checkout for tests-kept). */
  private suite(dir: string): Promise<SuiteOutcome | null> {
    return runSuite(dir, this.ctx.config, (where) => this.runCommand('tests', where));
  }

  private async runCommand(gate: 'tests' | 'lint', dir = this.ctx.worktree): Promise<CommandRun | null> {
    const section = this.ctx.config.gates[gate];
    if (!section?.command) return null;
    const timeoutMs =
      parseDuration(section.timeout) ??
      parseDuration(gate === 'tests' ? DEFAULTS.testsTimeout : DEFAULTS.lintTimeout)!;
    // A string command is the operator's own, from their config file (specs cannot set commands), so it
    // runs as they wrote it, through `sh -c`. An argv array runs directly, with no shell parsing.
    const command = typeof section.command === 'string' ? ['sh', '-c', section.command] : section.command;
    const display = typeof section.command === 'string' ? section.command : section.command.join(' ');
    const result = await runIsolated(command, {
      checkout: dir,
      env: this.env,
      timeoutMs,
      sandbox: this.ctx.isolation?.sandbox ?? { kind: 'none' },
      readable: this.ctx.isolation?.readable ?? [],
    });
    return {
      display: display.length > 200 ? `${display.slice(0, 199)}…` : display,
      exitCode: result.exitCode,
      // Redacted before it is trimmed, so the trimmed tail keeps its length.
      output: this.redact(clean(result.output)),
      timedOut: result.timedOut,
      timeoutMs,
      durationMs: result.durationMs,
    };
  }

  private async commandGate(gate: 'tests' | 'lint'): Promise<Verdict> {
    const run = gate === 'tests' ? (await this.testsRun())?.run : await this.runCommand(gate);
    if (!run) {
      return {
        passed: false,
        evidence:
          `The ${gate} gate is on but has no command. Set gates.${gate}.command in nightshift.config.yaml, ` +
          `or turn the gate off (nightshift gate off ${gate}).`,
      };
    }
    if (run.exitCode === 0 && !run.timedOut) {
      return { passed: true, evidence: `\`${run.display}\` passed in ${formatDuration(run.durationMs)}.` };
    }
    let head: string;
    if (run.timedOut) {
      head =
        `\`${run.display}\` timed out after ${formatDuration(run.timeoutMs)} (gates.${gate}.timeout). ` +
        `Find the test that hangs or make the ${gate === 'tests' ? 'suite' : 'check'} faster. The end of its output:`;
    } else if (run.exitCode === 127 || run.exitCode === 126) {
      head =
        `\`${run.display}\` could not be started (exit ${run.exitCode}: ${run.exitCode === 127 ? 'not found' : 'not executable'}). ` +
        `Check gates.${gate}.command in nightshift.config.yaml and that the worktree has what it needs. Its output:`;
    } else {
      head =
        gate === 'tests'
          ? `\`${run.display}\` exited ${run.exitCode} after ${formatDuration(run.durationMs)}. Make the failing tests pass. The end of its output:`
          : `\`${run.display}\` exited ${run.exitCode} after ${formatDuration(run.durationMs)}. Fix what it reports. The end of its output:`;
    }
    return { passed: false, evidence: `${head}\n\n${tail(run.output, EVIDENCE_LIMIT - head.length - 2)}` };
  }

  // ---- the gates -----------------------------------------------------------------------------

  private async namedTests(): Promise<Verdict> {
    const names = this.ctx.task.spec.tests;
    if (names.length === 0) return { passed: true, evidence: 'spec names no tests' };
    const added = (await this.git.diffFiles()).flatMap((file) => file.added.map((line) => line.text));
    const notAdded = names.filter((name) => !addedMentions(name, added));
    const suite = await this.testsRun();
    const run = suite?.run;
    const results = suite?.results ?? [];
    const statuses = new Map<string, NamedTestStatus>(
      names.map((name) => [name, namedTestStatus(name, results)]),
    );
    const notPassed = names.filter((name) => statuses.get(name) !== 'passed');
    if (run && notAdded.length === 0 && notPassed.length === 0) {
      return {
        passed: true,
        evidence: `${names.length === 1 ? 'The named test is' : `All ${names.length} named tests are`} added by the diff and pass${names.length === 1 ? 'es' : ''} (${suite.source}): ${names.join(', ')}.`,
      };
    }
    const parts: string[] = [];
    if (notAdded.length) {
      parts.push(
        `Not found in the lines the diff adds (write a test with exactly this name): ${notAdded.join(', ')}.`,
      );
    }
    if (!run) {
      parts.push(
        'Cannot tell whether the named tests pass: no tests command is configured (gates.tests.command in nightshift.config.yaml).',
      );
    } else if (notPassed.length) {
      const how: Record<NamedTestStatus, string> = {
        passed: 'passed',
        failed: 'failed',
        skipped: 'skipped',
        missing: suite?.source === CONSOLE_SOURCE ? 'not in the output' : 'not in the report',
      };
      if (suite?.reportProblem) parts.push(suite.reportProblem);
      parts.push(
        `Did not pass (${suite.source}) in the run of \`${run.display}\`${run.timedOut ? ` (it timed out after ${formatDuration(run.timeoutMs)})` : ''}:\n` +
          notPassed.map((name) => `  - ${name}: ${how[statuses.get(name)!]}`).join('\n'),
      );
      if (suite?.source === CONSOLE_SOURCE && notPassed.some((name) => statuses.get(name) === 'missing')) {
        parts.push(
          'A test that never shows up did not run, or the tests command does not print each test: ' +
            'use a per-test reporter (vitest --reporter=verbose, jest --verbose, pytest -v, go test -v).',
        );
      }
      if (!this.ctx.enabled.includes('tests')) {
        const head = parts.join('\n');
        parts.push(`The end of its output:\n\n${tail(run.output, EVIDENCE_LIMIT - head.length - 30)}`);
      }
    }
    return { passed: false, evidence: parts.join('\n') };
  }

  private async testsKept(): Promise<Verdict> {
    const files = await this.git.diffFiles();
    const head = await this.testsRun();
    let base = null;
    if (head) {
      if (!this.ctx.baseSuite) {
        throw new NightshiftError(ErrorCode.internal, 'the tests-kept gate needs a checkout of the base', {
          taskId: this.ctx.task.id,
          hint: 'the supervisor passes GateContext.baseSuite',
        });
      }
      base = await baseSuiteCount({
        port: this.ctx.baseSuite,
        base: (await this.git.range()).split('..')[0]!,
        config: this.ctx.config,
        taskId: this.ctx.task.id,
        suite: (dir) => this.suite(dir),
      });
    }
    return testsKeptVerdict({
      files,
      specText: this.ctx.specText,
      base,
      head: head && suiteCount(head),
    });
  }

  private async commits(): Promise<Verdict> {
    const count = await this.git.commitCount();
    return commitsVerdict(this.ctx.config, count, await this.git.range());
  }
}
