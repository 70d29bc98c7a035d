/**
 * The workspace configuration (nightshift.config.yaml), validated strictly: unknown keys are errors.
 * Durations stay as text here and are resolved with parseDuration where they are used.
 */
import { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { GRADES, gradePoints } from '../core/grades.js';
import { RESERVED_IDS, TASK_ID_PATTERN, refNameProblem } from '../core/ids.js';
import { DEFAULT_ARCHITECT_MODEL } from './models.js';
import { notifySchema, windowSchema } from './integrations.js';

export const nameSchema = z
  .string()
  .regex(TASK_ID_PATTERN, 'expected 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit')
  .refine((value) => !RESERVED_IDS.has(value), "this name is reserved for the queue's own directories");

export const durationSchema = z.string().superRefine((value, ctx) => {
  if (parseDuration(value) === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like "90s", "20m", "2h"; found ${JSON.stringify(value)}`,
    });
  }
});

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** A size in bytes: a number, or a string like "50MB", "512KB", "1GB" (units of 1024). */
export function parseSize(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*$/i.exec(value);
  const unit = m ? SIZE_UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) return null;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A size of at least `min` bytes, parsed to a number. */
export const sizeSchema = (min: number) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === null || bytes < min) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a size of at least ${min} bytes like "50MB", "512KB" or a number of bytes; found ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return bytes;
  });

export const branchSchema = z.string().superRefine((value, ctx) => {
  const problem = refNameProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
/** A command line: a string (run as given by the operator's config) or an argv array. */
const commandSchema = z.union([z.string().min(1), z.array(z.string()).min(1)]);

const mergeStrategy = z.enum(['rebase', 'merge-commit', 'squash']);

/** A label gh may put on a pull request: one line, no leading "-" (never read as a flag). */
const labelSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(
    /^[^\s,\u0000-\u001f\u007f-][^,\u0000-\u001f\u007f]*$/,
    'expected a label: no commas, no control characters, not starting with "-" or a space',
  );

/** repos.<name>.merge as an object: local merges (the default) or pull requests (mode: pr). */
const mergeSchema = z.strictObject({
  mode: z.enum(['local', 'pr']).default('local'),
  /** How a local merge lands on main. */
  strategy: mergeStrategy.default('rebase'),
  /** pr mode: the git remote the branch is pushed to and gh opens the pull request on. */
  remote: z
    .string()
    .regex(/^[A-Za-z0-9._][A-Za-z0-9._-]*$/, 'expected a git remote name')
    .default('origin'),
  /** pr mode: the branch the pull request asks to merge into; null: the repo's `main`. */
  base: branchSchema.nullable().default(null),
  /** pr mode: labels put on every pull request (they must exist on GitHub). */
  labels: z.array(labelSchema).max(20).default([]),
  /** pr mode: open the pull requests as drafts. */
  draft: z.boolean().default(false),
});

/** A path inside the gate's checkout: relative, without `..`. */
const checkoutPath = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.split(/[\\/]/).includes('..'),
    'expected a path relative to the checkout, without ".."',
  );
/** A setup hook (docs/integrations.md#setup-hooks): an operator's command run around an attempt or the gates. */
const hookSchema = z.strictObject({
  command: commandSchema,
  timeout: durationSchema.default('10m'),
});

/**
 * `afterCreate` may be cached: the files of `cacheKey` (relative to the worktree) hash to a key, and the
 * `cachePaths` the hook made are kept per repo on the host and restored instead of running it again.
 */
const afterCreateSchema = hookSchema
  .extend({
    cacheKey: z.array(checkoutPath).min(1).optional(),
    cachePaths: z.array(checkoutPath).min(1).optional(),
  })
  .refine((h) => (h.cacheKey === undefined) === (h.cachePaths === undefined), {
    message: 'cacheKey and cachePaths go together: the files that key the cache and the paths it keeps',
  });

/** Setup hooks per repository: from this config only, never from the branch. */
const hooksSchema = z.strictObject({
  /** On the worker, when an attempt's worktree is made, before beforeRun (npm ci, uv sync, …). */
  afterCreate: afterCreateSchema.optional(),
  /** On the worker, in the worktree, before each attempt's executor starts. */
  beforeRun: hookSchema.optional(),
  /** On the worker, after the executor ends, whatever its outcome: a failure is logged, nothing more. */
  afterRun: hookSchema.optional(),
  /** In the isolated gate checkout before the gates, under the gates' sandbox and environment. */
  beforeGate: hookSchema.optional(),
});

const repoSchema = z.strictObject({
  path: z.string().min(1),
  main: branchSchema.default('main'),
  remote: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'expected a git remote name')
    .nullable()
    .default(null),
  /**
   * How an approved, gated branch lands (docs/merge.md): a strategy name (`rebase`, `merge-commit`,
   * `squash`) merges it into main here, as before; an object can say `mode: pr` instead, which pushes it
   * to `remote` as nightshift/<id> and opens a pull request with the gh CLI (src/daemon/pull-request.ts).
   */
  merge: z
    .union([mergeStrategy, mergeSchema])
    .default('rebase')
    .transform((m) => (typeof m === 'string' ? mergeSchema.parse({ strategy: m }) : m)),
  /** Setup hooks (docs/integrations.md#setup-hooks). */
  hooks: hooksSchema.prefault({}),
});

const hostLimits = {
  maxLoadPerCore: z.number().positive().default(1.5),
  minFreeMemMB: z.number().int().nonnegative().default(1000),
  minFreeDiskMB: z.number().int().nonnegative().default(2000),
};

const hostSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local'), workdir: z.string().min(1).optional(), ...hostLimits }),
  z.strictObject({
    kind: z.literal('ssh'),
    ssh: z
      .string()
      .regex(/^[A-Za-z0-9_.@-]+$/, 'expected user@host or an ssh config Host alias')
      .refine((v) => !v.startsWith('-'), 'cannot start with "-"'),
    sshConfig: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    identityFile: z.string().min(1).optional(),
    /** Where the host keeps mirrors, worktrees and task files: absolute, or starting with ~/ (the host's home). */
    workdir: z
      .string({
        error: (issue) =>
          issue.input === undefined
            ? 'an ssh host needs a workdir on the host: an absolute path, or one starting with ~/ (for example ~/.nightshift)'
            : undefined,
      })
      .min(1),
    ...hostLimits,
  }),
]);

export const PROVIDER_KINDS = ['claude-code', 'codex', 'aider', 'opencode', 'command', 'scripted'] as const;

/** US dollars per million tokens (docs/cost.md); a free plan is 0 for both. */
const priceSchema = z.strictObject({
  inputPerMTok: z.number().finite().nonnegative(),
  outputPerMTok: z.number().finite().nonnegative(),
});
/** A cap on one night's use (docs/cost.md): tokens in + out, and/or US dollars; reaching one freezes. */
const budgetSchema = z.strictObject({
  tokens: z.number().int().positive().optional(),
  usd: z.number().finite().positive().optional(),
});

const providerSchema = z.strictObject({
  kind: z.enum(PROVIDER_KINDS),
  hosts: z.array(nameSchema).min(1).default(['local']),
  concurrency: z.number().int().min(1).max(64).default(2),
  model: z.string().min(1).optional(),
  env: z.record(envName, z.string()).default({}),
  secretEnv: z.record(envName, envName).default({}),
  command: z.array(z.string()).min(1).optional(),
  probeTimeout: durationSchema.default('60s'),
  /** A non-zero exit this soon after start, with no commits and almost no output: a crash on start. */
  crashWindow: durationSchema.default('10s'),
  scripted: z.strictObject({ probe: z.enum(['ok', 'silent', 'hang', 'fail']).default('ok') }).optional(),
  /** What its tokens cost (docs/cost.md); absent: the CLI's own reported cost, else unknown. */
  price: priceSchema.optional(),
  /** Per night: reaching it stops new launches on this provider (docs/cost.md). */
  budget: budgetSchema.optional(),
});

/** A grade floor: a letter of the architect's scale or points on its 4.0 scale, as points; null: off. */
const gradeFloorSchema = z
  .union([z.enum(GRADES), z.number().min(0).max(4)], {
    error: `expected a grade (${GRADES.join(', ')}), points from 0 to 4, or null`,
  })
  .nullable()
  .transform((v) => (typeof v === 'string' ? gradePoints(v) : v));

const gateToggle = { enabled: z.boolean() };

/** The tests command's structured report: a path, or a path and its format (auto-detected by default). */
const reportSchema = z.union([
  checkoutPath,
  z.strictObject({
    path: checkoutPath,
    format: z.enum(['auto', 'junit', 'tap', 'vitest-json', 'jest-json']).default('auto'),
  }),
]);

export const configSchema = z.strictObject({
  repos: z.record(nameSchema, repoSchema).default({}),
  hosts: z.record(nameSchema, hostSchema).default({ local: { kind: 'local' } as never }),
  providers: z.record(nameSchema, providerSchema).default({}),
  architect: z
    .strictObject({
      /** llm: one SDK call; claude-code: a headless Claude Code session in the gate checkout (docs/architect.md). */
      mode: z.enum(['llm', 'claude-code', 'gates', 'manual']).default('gates'),
      model: z.string().min(1).default(DEFAULT_ARCHITECT_MODEL),
      baseURL: z.string().url().nullable().default(null),
      apiKeyEnv: envName.nullable().default('ANTHROPIC_API_KEY'),
      authTokenEnv: envName.nullable().default(null),
      timeout: durationSchema.default('5m'),
      diffBudget: z.number().int().positive().default(60_000),
      /** A diff of at most this many characters also sends the changed files whole (0: never). */
      wholeFiles: z.number().int().nonnegative().default(20_000),
      /** claude-code mode: the Claude Code CLI to run (a name on PATH or a path). */
      cli: z.string().min(1).default('claude'),
      /** claude-code mode: the turns one architect session may take (`--max-turns`). */
      maxTurns: z.number().int().positive().default(40),
      /** claude-code mode: whether the session may run the configured gate commands through Bash. */
      runGates: z.boolean().default(true),
      /** What the architect's tokens cost (docs/cost.md); absent: unknown. */
      price: priceSchema.optional(),
      /**
       * Follow-up specs (docs/architect.md#follow-ups): after a task fails or parks for a reason its spec
       * is charged with, the architect may draft one narrower or corrected spec (`followUpOf: <id>`).
       */
      followUps: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** At most this many follow-ups in any 24 hours. */
          maxPerNight: z.number().int().nonnegative().default(5),
          /** A follow-up of a follow-up is depth 2: drafted only when maxDepth allows it. */
          maxDepth: z.number().int().min(1).max(5).default(1),
          /** true: straight into the inbox (specs/); false: into specs/drafts/ for a person. */
          autoQueue: z.boolean().default(false),
        })
        .prefault({}),
      /** Each monitor cycle that saw trouble asks the architect for a short note (docs/architect.md, Triage). */
      triage: z.boolean().default(false),
    })
    .prefault({}),
  gates: z
    .strictObject({
      tests: z
        .strictObject({
          ...gateToggle,
          command: commandSchema,
          timeout: durationSchema.default('20m'),
          report: reportSchema.optional(),
        })
        .optional(),
      lint: z
        .strictObject({ ...gateToggle, command: commandSchema, timeout: durationSchema.default('10m') })
        .optional(),
      diff: z
        .strictObject({
          ...gateToggle,
          maxLines: z.number().int().positive().default(1500),
          maxFiles: z.number().int().positive().default(40),
        })
        .optional(),
      deletions: z.strictObject(gateToggle).optional(),
      commits: z.strictObject({ ...gateToggle, max: z.number().int().positive().default(15) }).optional(),
      'named-tests': z.strictObject(gateToggle).optional(),
      'tests-kept': z.strictObject(gateToggle).optional(),
      /** On unless turned off: a branch that adds a secret never merges. */
      secrets: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
      /** Variables of the supervisor's environment the gate commands get, besides PATH, HOME and LANG. */
      env: z.array(envName).default([]),
      /** bwrap: each gate command in a bubblewrap sandbox; auto: bwrap when it works here (docs/gates.md). */
      sandbox: z.enum(['none', 'bwrap', 'auto']).default('auto'),
      /** Whether gate commands in the bwrap sandbox may use the network. */
      network: z.boolean().default(false),
    })
    .prefault({}),
  defaults: z
    .strictObject({
      timeout: durationSchema.default('2h'),
      idle: durationSchema.default('20m'),
      attempts: z.number().int().min(1).max(20).default(3),
      reviewRounds: z.number().int().min(0).max(20).default(2),
      priority: z.number().int().default(0),
      /** Repo used by specs that name none; defaults to the first repo listed. */
      repo: nameSchema.optional(),
      monitorEvery: durationSchema.default('15m'),
      /** Retry backoff: initial delay, doubled per attempt up to the max, with full jitter. */
      retryInitial: durationSchema.default('60s'),
      retryMax: durationSchema.default('15m'),
      /** How often running attempts are checked for timeouts and idleness. */
      livenessEvery: durationSchema.default('60s'),
      /**
       * How long a host may stay unreachable before its running attempts are given up: each is retried
       * on another host (using none of the spec's attempts), and its old session is ended, its result
       * discarded, when the host answers again. Until then the executor may well still be working.
       */
      hostLostGrace: durationSchema.default('10m'),
      /** Merged ns/<id> branches are deleted this long after their merge (never before, never unmerged). */
      branchRetention: durationSchema.default('7d'),
      /**
       * Per attempt: logs/<id>/attempt-<n>.log keeps the first and the last half of this many bytes of
       * the executor's output, with a line saying how much was left out (src/daemon/log-cap.ts).
       */
      logCap: sizeSchema(64 * 1024).default(50 * 1024 * 1024),
      /**
       * A provider whose recent grades average below this runs one attempt at a time until they recover
       * (src/daemon/grades.ts): a grade (`C`) or points (A = 4.0 … F = 0); null turns it off.
       */
      gradeFloor: gradeFloorSchema.default(gradePoints('C')),
    })
    .prefault({}),
  lint: z.strictObject({ strict: z.boolean().default(false) }).prefault({}),
  /** Where notices go (webhook, Slack, ntfy): config/integrations.ts, docs/integrations.md. */
  notify: notifySchema,
  /** The night window in local time (start, stopStarting, end), or null: always open. */
  window: windowSchema,
  /** The whole night's cap, executors and architect together: reaching it freezes all dispatch (docs/cost.md). */
  budget: z.strictObject({ perNight: budgetSchema.optional() }).prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type ProviderConfig = Config['providers'][string];
export type HostConfig = Config['hosts'][string];
export type RepoConfig = Config['repos'][string];
export type MergeConfig = RepoConfig['merge'];

/** A repo with every default: what a task of a repo missing from the config is judged with. */
export function defaultRepoConfig(repoPath: string): RepoConfig {
  return repoSchema.parse({ path: repoPath });
}
export type HooksConfig = RepoConfig['hooks'];
export type HookName = keyof HooksConfig;
