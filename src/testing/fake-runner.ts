/**
 * A CommandRunner for unit tests that asserts the exact argv of every command, in order (lazygit's
 * `NewFakeRunner(t).ExpectGitArgs(...)`): a test lists what it expects the code to run and what each
 * command answers; a command that is not the next one expected, or an expected one never run, fails the
 * test. Use it at the process boundary only (hosts/), never in place of our own modules.
 *
 *   const runner = new FakeRunner();
 *   runner.expect(['git', 'status', '--porcelain'], { stdout: ' M a\n' });
 *   await codeUnderTest(runner);
 *   runner.verify(); // or afterEach(() => runner.verify())
 *
 * A wrong command throws from run(), and is also kept for verify(): code under test that swallows the
 * error (`.catch(() => null)`) still fails the test.
 */
import { isDeepStrictEqual } from 'node:util';
import { CommandError, type CommandRunner, type RunOptions, type RunResult } from '../hosts/runner.js';

export interface FakeAnswer {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  timedOut?: boolean;
  /** Thrown instead of answering (a LinkError, say). */
  error?: Error;
}

interface Expectation {
  argv: readonly string[];
  answer: FakeAnswer | ((argv: readonly string[], opts: RunOptions) => FakeAnswer);
  /** When given, the command's stdin must be exactly this. */
  input?: string | Uint8Array;
}

export interface FakeCall {
  argv: readonly string[];
  opts: RunOptions;
}

export class FakeRunner implements CommandRunner {
  readonly calls: FakeCall[] = [];
  private readonly queue: Expectation[] = [];
  private readonly failures: string[] = [];

  constructor(
    readonly host = 'fake',
    readonly kind: 'local' | 'ssh' = 'local',
  ) {}

  /** The next command must be exactly `argv` (and, with `input`, get exactly that stdin). */
  expect(
    argv: readonly string[],
    answer: Expectation['answer'] = {},
    opts: { input?: string | Uint8Array } = {},
  ): this {
    this.queue.push({ argv: [...argv], answer, ...(opts.input !== undefined ? { input: opts.input } : {}) });
    return this;
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], opts });
    const next = this.queue.shift();
    if (!next) return this.fail(`unexpected command (none was expected): ${show(argv)}`);
    if (!isDeepStrictEqual([...argv], [...next.argv])) {
      return this.fail(`unexpected command:\n  expected ${show(next.argv)}\n  got      ${show(argv)}`);
    }
    if (next.input !== undefined && !sameInput(next.input, opts.input)) {
      return this.fail(`${show(argv)}: stdin differs from the expected one`);
    }
    const answer = typeof next.answer === 'function' ? next.answer(argv, opts) : next.answer;
    if (answer.error) return Promise.reject(answer.error);
    const stdout = answer.stdout ?? '';
    const result: RunResult = {
      exitCode: answer.exitCode ?? 0,
      stdout,
      ...(opts.binary ? { stdoutBytes: Buffer.from(stdout) } : {}),
      stderr: answer.stderr ?? '',
      timedOut: answer.timedOut ?? false,
      durationMs: 0,
    };
    if (opts.check && result.exitCode !== 0) return Promise.reject(new CommandError(argv, result, this.host));
    return Promise.resolve(result);
  }

  /** Fails (throws) when a command was wrong or an expected one was never run. */
  verify(): void {
    const missing = this.queue.map((e) => `expected command never ran: ${show(e.argv)}`);
    const problems = [...this.failures, ...missing];
    this.failures.length = 0;
    this.queue.length = 0;
    if (problems.length > 0) throw new Error(`FakeRunner(${this.host}):\n${problems.join('\n')}`);
  }

  interactiveArgv(argv: readonly string[]): string[] {
    return [...argv];
  }

  gitTransport() {
    return { urlFor: (p: string) => p, env: {} };
  }

  async close(): Promise<void> {}

  private fail(message: string): Promise<never> {
    this.failures.push(message);
    return Promise.reject(new Error(`FakeRunner(${this.host}): ${message}`));
  }
}

function sameInput(want: string | Uint8Array, got: string | Uint8Array | undefined): boolean {
  if (got === undefined) return false;
  return Buffer.from(want).equals(Buffer.from(got));
}

/** An argv for a message: long words (a script's text) shortened to their first line. */
function show(argv: readonly string[]): string {
  return JSON.stringify(argv.map((w) => (w.length > 60 ? `${w.split('\n')[0]?.slice(0, 40) ?? ''}…` : w)));
}
