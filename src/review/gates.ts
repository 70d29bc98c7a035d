/**
 * The quality gates (DESIGN.md §8): which are on for a task, and running them in a checkout of the
 * branch, in the fixed order of GATE_NAMES. Each gate is a pass/fail with evidence: what failed, trimmed
 * to about 4 KB, and what to do about it — the executor reads it in its next round.
 *
 * Gates never use a shell for git: every git command is an argv (`git -C <worktree> …`) through runGit
 * (git/run.ts), and every one runs before the first gate command: the branch's code may rewrite the
 * checkout's `.git` (a hook, a config), and our git must never run what it planted. The tests and lint
 * commands are the operator's, from nightshift.config.yaml, run in isolation (isolation.ts).
 */
import { statSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { secretRedactor } from '../config/secrets.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { GATE_NAMES, type GateName } from '../core/gates.js';
import type { GateResult, TaskRecord, TaskSpec } from '../core/task.js';
import { GitError, runGit } from '../git/run.js';
import type { GateSandbox } from '../hosts/sandbox.js';
import type { Redactor } from '../lib/redact.js';
import type { Toggles } from '../queue/toggles.js';
import { gateEnvironment, runIsolated } from './isolation.js';
import { findDeletions, parseUnifiedDiff, type Definition, type DiffFile } from './deletions.js';
import { addedMentions, namedTestStatus, outputLines, type NamedTestStatus } from './named-tests.js';
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

/** Evidence is trimmed to about this many characters (the tail of a command's output is kept). */
export const EVIDENCE_LIMIT = 4096;

/** The schema's defaults, for a gate turned on by a toggle without a config section. */
const DEFAULTS = { testsTimeout: '20m', lintTimeout: '10m', maxLines: 1500, maxFiles: 40, maxCommits: 15 };
/** git answers in milliseconds; this only stops a wedged git from holding up judgment forever. */
const GIT_TIMEOUT_MS = 5 * 60_000;

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

interface Verdict {
  passed: boolean;
  evidence: string;
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
  private revs?: Promise<string>;
  private diff?: Promise<DiffFile[]>;
  private numstat?: Promise<string>;
  private count?: Promise<number>;

  constructor(private readonly ctx: GateContext) {
    // The branch's code runs under the gate commands: it gets PATH, HOME, LANG, CI and gates.env, never
    // the supervisor's other variables (its secrets least of all).
    this.env = gateEnvironment(ctx.config, ctx.env ?? process.env);
    this.redact = secretRedactor(ctx.config, ctx.env ?? process.env);
  }

  /** Everything the gates in `order` read from git, read now, before any gate command runs. */
  async readGit(order: readonly GateName[]): Promise<void> {
    const reads: Promise<unknown>[] = [];
    if (order.some((g) => g === 'named-tests' || g === 'deletions')) reads.push(this.diffFiles());
    if (order.includes('diff')) reads.push(this.numstatText());
    if (order.includes('commits')) reads.push(this.commitCount());
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
        return this.diffBudget();
      case 'deletions':
        return this.deletions();
      case 'commits':
        return this.commits();
      case 'tests-kept':
        return this.testsKept();
      case 'secrets':
        return this.range().then((range) =>
          secretsGate({
            config: this.ctx.config,
            env: this.ctx.env ?? process.env,
            range,
            git: (args) => this.git(args),
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

  // ---- git -----------------------------------------------------------------------------------

  /** git in the gate checkout, its output as git wrote it (diffs and logs are parsed whole). */
  private async git(args: readonly string[]): Promise<string> {
    try {
      return await runGit(this.ctx.worktree, ['-c', 'core.quotePath=false', ...args], {
        timeoutMs: GIT_TIMEOUT_MS,
        env: { GIT_OPTIONAL_LOCKS: '0' },
        keepOutput: true,
      });
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      throw new NightshiftError(
        ErrorCode.git,
        err.message,
        {
          taskId: this.ctx.task.id,
          hint: 'the gate worktree must be a git checkout holding both the base and the head commit',
        },
        { cause: err },
      );
    }
  }

  private async resolve(rev: string): Promise<string> {
    if (!rev || rev.startsWith('-')) {
      throw new NightshiftError(ErrorCode.internal, `not a revision: ${JSON.stringify(rev)}`, {
        taskId: this.ctx.task.id,
      });
    }
    return (await this.git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim();
  }

  /** `<base sha>..<head sha>`, resolved once (so no later argument can look like an option). */
  private range(): Promise<string> {
    return (this.revs ??= Promise.all([this.resolve(this.ctx.base), this.resolve(this.ctx.head)]).then(
      ([base, head]) => `${base}..${head}`,
    ));
  }

  private diffFiles(): Promise<DiffFile[]> {
    return (this.diff ??= this.range().then(async (range) =>
      parseUnifiedDiff(
        await this.git([
          'diff',
          '-U0',
          '--no-color',
          '--no-ext-diff',
          '--no-textconv',
          '--find-renames',
          '--src-prefix=a/',
          '--dst-prefix=b/',
          range,
          '--',
        ]),
      ),
    ));
  }

  private numstatText(): Promise<string> {
    return (this.numstat ??= this.range().then((range) =>
      this.git(['diff', '--numstat', '--no-color', '--no-ext-diff', '--find-renames', range, '--']),
    ));
  }

  private commitCount(): Promise<number> {
    return (this.count ??= this.range().then(async (range) =>
      Number((await this.git(['rev-list', '--count', range, '--'])).trim()),
    ));
  }

  // ---- the gates -----------------------------------------------------------------------------

  private async namedTests(): Promise<Verdict> {
    const names = this.ctx.task.spec.tests;
    if (names.length === 0) return { passed: true, evidence: 'spec names no tests' };
    const added = (await this.diffFiles()).flatMap((file) => file.added.map((line) => line.text));
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
    const files = await this.diffFiles();
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
        base: (await this.range()).split('..')[0]!,
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

  private async diffBudget(): Promise<Verdict> {
    const maxLines = this.ctx.config.gates.diff?.maxLines ?? DEFAULTS.maxLines;
    const maxFiles = this.ctx.config.gates.diff?.maxFiles ?? DEFAULTS.maxFiles;
    const numstat = await this.numstatText();
    const files = numstat
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => {
        const [plus = '-', minus = '-', ...name] = line.split('\t');
        const added = plus === '-' ? 0 : Number(plus);
        const deleted = minus === '-' ? 0 : Number(minus);
        return { name: name.join('\t'), added, deleted, binary: plus === '-' };
      });
    const added = files.reduce((sum, f) => sum + f.added, 0);
    const deleted = files.reduce((sum, f) => sum + f.deleted, 0);
    const lines = added + deleted;
    const summary = `${plural(lines, 'changed line')} (+${added} −${deleted}) in ${plural(files.length, 'file')}; the budget is ${plural(maxLines, 'line')} and ${plural(maxFiles, 'file')}.`;
    if (lines <= maxLines && files.length <= maxFiles) return { passed: true, evidence: summary };
    const over = [
      lines > maxLines ? plural(lines - maxLines, 'line') : null,
      files.length > maxFiles ? plural(files.length - maxFiles, 'file') : null,
    ].filter(Boolean);
    const largest = [...files]
      .sort((a, b) => b.added + b.deleted - (a.added + a.deleted))
      .slice(0, 10)
      .map((f) => `  ${f.binary ? 'binary' : `+${f.added} −${f.deleted}`}  ${f.name}`);
    return {
      passed: false,
      evidence:
        `${summary} Over by ${over.join(' and ')}: keep to what the spec asks (no reformatting, generated or ` +
        `unrelated files), or the spec must be split. The largest changes:\n${largest.join('\n')}`,
    };
  }

  private async deletions(): Promise<Verdict> {
    const report = findDeletions(await this.diffFiles(), this.ctx.specText);
    const where = (d: Definition): string => `${d.file}:${d.line}`;
    const notes: string[] = [];
    if (report.named.length) {
      notes.push(
        `Removed as the spec names them: ${report.named.map((d) => `${d.key} (${where(d)})`).join(', ')}.`,
      );
    }
    if (report.moved.length)
      notes.push(
        `${plural(report.moved.length, 'definition')} moved or changed in place, under the same name.`,
      );
    if (report.removed.length === 0) {
      return {
        passed: true,
        evidence: ['No function, method, class or export definition removed.', ...notes].join(' '),
      };
    }
    const list = report.removed.slice(0, 40).map((d) => `  ${where(d)}  ${d.kind} ${d.key}: ${d.text}`);
    if (report.removed.length > 40) list.push(`  … and ${report.removed.length - 40} more`);
    return {
      passed: false,
      evidence: [
        `The diff removes ${plural(report.removed.length, 'definition')} that the spec does not name. Restore them ` +
          '(moving one is fine: keep its name); a removal passes only when the spec names what it removes.',
        ...list,
        ...notes,
      ].join('\n'),
    };
  }

  private async commits(): Promise<Verdict> {
    const max = this.ctx.config.gates.commits?.max ?? DEFAULTS.maxCommits;
    const count = await this.commitCount();
    const base = (await this.range()).slice(0, 12);
    if (count <= max) return { passed: true, evidence: `${plural(count, 'commit')} (the limit is ${max}).` };
    return {
      passed: false,
      evidence:
        `${plural(count, 'commit')} on the branch, more than the limit of ${max}. Squash related commits ` +
        `(e.g. \`git rebase -i ${base}\`) so that at most ${max} remain.`,
    };
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

// ---- evidence ------------------------------------------------------------------------------------

/** Output fit to show: no terminal escapes or control characters, `\n` line ends. */
function clean(text: string): string {
  return outputLines(text)
    .join('\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}

/** The last `max` characters of `text`, from a line start, saying how much came before. */
export function tail(text: string, max: number): string {
  const body = text.trim();
  if (!body) return '(no output)';
  if (body.length <= max) return body;
  const budget = Math.max(max - 40, 200);
  let kept = body.slice(-budget);
  const newline = kept.indexOf('\n');
  if (newline >= 0 && newline < kept.length / 2) kept = kept.slice(newline + 1);
  return `[… ${body.length - kept.length} earlier characters cut]\n${kept}`;
}

/** Evidence longer than the limit keeps its beginning (the lists and what to do come first). */
function clip(text: string): string {
  if (text.length <= EVIDENCE_LIMIT) return text;
  return `${text.slice(0, EVIDENCE_LIMIT - 30).trimEnd()}\n[… ${text.length - EVIDENCE_LIMIT + 30} characters cut]`;
}
