/**
 * The gates that look at what a branch does to its tests and what it adds, beside gates.ts's GateRun:
 * - the test suite's outcome with its source: the structured report when one is configured (removed
 *   before the run, read after), else the console output (a fallback the evidence names);
 * - tests-kept: base's count of tests that ran, by running the same tests command on a checkout of the
 *   base (through the same runner as the head's run), cached per base commit and command in a file;
 * - secrets: what the branch adds, scanned for configured secrets and key patterns.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { namedSecrets } from '../config/secrets.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { makeNamedRedactor } from '../lib/redact.js';
import { parseUnifiedDiff, type DiffFile } from './unified-diff.js';
import { testResults, type TestResult } from './named-tests.js';
import { readReport, removeReport, reportSpec } from './report-file.js';
import {
  findAddedSecrets,
  MESSAGE,
  mergeFindings,
  secretForms,
  secretsIn,
  secretsVerdict,
  splitCommitPatches,
  type SecretFinding,
} from './secrets-gate.js';
import { ranCount, REPORT_LABEL } from './test-reports.js';
import type { SuiteCount } from './tests-kept.js';

/** How the tests-kept gate gets the base's suite run: implemented by the supervisor (judgment.ts). */
export interface BaseSuitePort {
  /** A checkout of `commit`, to run the tests command in as it runs on the head. */
  checkout(commit: string): Promise<string>;
  /** Where counts are kept by base commit and tests command, so one base's suite runs once a night. */
  cacheFile?: string;
}

/** What the gates need of a command run (gates.ts's CommandRun). */
export interface CommandOutcome {
  display: string;
  exitCode: number;
  output: string;
  timedOut: boolean;
  timeoutMs: number;
  durationMs: number;
}

export interface SuiteOutcome {
  run: CommandOutcome;
  results: TestResult[];
  /** Where the results come from, for the evidence: "from the JUnit report at junit.xml". */
  source: string;
  /** A report is configured and could not be read: no result is trusted. */
  reportProblem: string | null;
}

export const CONSOLE_SOURCE = 'from console output: configure gates.tests.report';

/** Runs the tests command in `dir` through `run`, with the configured report removed before and read after. */
export async function runSuite(
  dir: string,
  config: Config,
  run: (dir: string) => Promise<CommandOutcome | null>,
): Promise<SuiteOutcome | null> {
  const spec = reportSpec(config);
  const removeProblem = spec ? removeReport(dir, spec) : null;
  const outcome = await run(dir);
  if (!outcome) return null;
  if (!spec)
    return {
      run: outcome,
      results: testResults(outcome.output),
      source: CONSOLE_SOURCE,
      reportProblem: null,
    };
  const read = removeProblem ? { ok: false as const, why: removeProblem } : readReport(dir, spec);
  if (!read.ok) {
    return {
      run: outcome,
      results: [],
      source: `from the report at ${spec.path}, which could not be read`,
      reportProblem: `The report at ${spec.path} (gates.tests.report) could not be read: ${read.why}. Console output is not trusted when a report is configured.`,
    };
  }
  return {
    run: outcome,
    results: read.results,
    source: `from the ${REPORT_LABEL[read.format]} report at ${spec.path}`,
    reportProblem: null,
  };
}

export function suiteCount(outcome: SuiteOutcome): SuiteCount {
  return { ran: ranCount(outcome.results), source: outcome.source };
}

interface CacheFile {
  version: 1;
  entries: Record<string, { base: string; ran: number; source: string; at: string }>;
}

const CACHE_ENTRIES = 500;

function readCache(file: string): CacheFile {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (doc?.version === 1 && doc.entries && typeof doc.entries === 'object') return doc;
  } catch {
    // Missing or damaged: counted again.
  }
  return { version: 1, entries: {} };
}

/**
 * How many tests ran on `base`: from the cache when this base and tests command were counted before,
 * else by running the suite on the port's checkout of it. A base suite that times out or cannot start
 * is the supervisor's problem (the branch did not make it): a NightshiftError, nothing cached.
 */
export async function baseSuiteCount(opts: {
  port: BaseSuitePort;
  base: string;
  config: Config;
  taskId: string;
  suite: (dir: string) => Promise<SuiteOutcome | null>;
  now?: () => Date;
}): Promise<SuiteCount | null> {
  const tests = opts.config.gates.tests;
  if (!tests?.command) return null;
  const key = createHash('sha256')
    .update(JSON.stringify([opts.base, tests.command, tests.report ?? null]))
    .digest('hex');
  const cached = opts.port.cacheFile ? readCache(opts.port.cacheFile).entries[key] : undefined;
  if (cached) return { ran: cached.ran, source: `${cached.source}; counted once for this base` };
  const dir = await opts.port.checkout(opts.base);
  const outcome = await opts.suite(dir);
  if (!outcome) return null;
  if (
    outcome.run.timedOut ||
    outcome.run.exitCode === 126 ||
    outcome.run.exitCode === 127 ||
    outcome.reportProblem
  ) {
    const why = outcome.run.timedOut
      ? `timed out after ${outcome.run.timeoutMs / 1000}s`
      : (outcome.reportProblem ?? `could not start (exit ${outcome.run.exitCode})`);
    throw new NightshiftError(
      ErrorCode.io,
      `the tests command on the base ${opts.base.slice(0, 12)}: ${why}`,
      {
        taskId: opts.taskId,
        hint: 'tests-kept compares with the base: fix the tests command for the base, or turn the gate off (nightshift gate off tests-kept)',
      },
    );
  }
  const count = suiteCount(outcome);
  if (opts.port.cacheFile) {
    const cache = readCache(opts.port.cacheFile);
    cache.entries[key] = {
      base: opts.base,
      ran: count.ran,
      source: count.source,
      at: (opts.now?.() ?? new Date()).toISOString(),
    };
    const keys = Object.keys(cache.entries);
    for (const old of keys.slice(0, Math.max(0, keys.length - CACHE_ENTRIES))) delete cache.entries[old];
    mkdirSync(path.dirname(opts.port.cacheFile), { recursive: true });
    const tmp = `${opts.port.cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(cache), { mode: 0o600 });
    renameSync(tmp, opts.port.cacheFile);
  }
  return count;
}

/** Arguments to `git` that never run the branch's configured helpers (ext diff, textconv). */
const PATCH_ARGS = [
  '-U0',
  '--text',
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '--find-renames',
  '--src-prefix=a/',
  '--dst-prefix=b/',
];

/**
 * The secrets gate: the branch's whole diff, every commit's own patch and every commit message, scanned
 * for the configured secrets (read from `env`) and the key patterns.
 */
export async function secretsGate(opts: {
  config: Config;
  env: NodeJS.ProcessEnv;
  range: string;
  git: (args: readonly string[]) => Promise<string>;
}): Promise<{ passed: boolean; evidence: string }> {
  const secrets = namedSecrets(opts.config, opts.env);
  const forms = secretForms(secrets);
  const whole: DiffFile[] = parseUnifiedDiff(await opts.git(['diff', ...PATCH_ARGS, opts.range, '--']));
  const findings: SecretFinding[] = findAddedSecrets(whole, forms);
  const log = await opts.git(['log', '--format=%x00%H', '--patch', ...PATCH_ARGS, opts.range, '--']);
  for (const { commit, patch } of splitCommitPatches(log)) {
    findings.push(...findAddedSecrets(parseUnifiedDiff(patch), forms, commit));
  }
  const messages = await opts.git(['log', '--format=%x00%H%n%B', opts.range, '--']);
  for (const { commit, patch: message } of splitCommitPatches(messages)) {
    for (const name of secretsIn(message, forms)) findings.push({ file: MESSAGE, line: null, name, commit });
  }
  // A file name may hold a secret too: shown with each one named, never as it is.
  const show = makeNamedRedactor(secrets, { patterns: true });
  return secretsVerdict(mergeFindings(findings), show);
}
