/**
 * `nightshift plan`: the architect drafts specs for a goal. It gets a bounded summary of the repository's
 * main branch (review/repo-summary.ts: read from git objects, nothing checked out or run; in claude-code
 * mode it also explores an isolated checkout of it: review/claude-writer.ts), answers
 * through an ArchitectWriter, and what passes `lint --strict` (repaired once) is written to specs/drafts/
 * — or, with `queue`, straight into the inbox (specs/). Drafts that duplicate a queued task or another
 * draft are left out, each with its reason.
 */
import os from 'node:os';
import path from 'node:path';
import { graphOf } from '../core/dependencies.js';
import { architectUsageEvent } from '../core/usage-totals.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { resolveRepoPath } from '../config/paths.js';
import { Repo } from '../git/repo.js';
import { draftDuplicate, writeSpecFile } from '../queue/drafts.js';
import { missingCredential } from '../review/architect-credential.js';
import { architectWriter, type ArchitectWriter, type Usage } from '../review/architect-writer.js';
import { planSpecs } from '../review/planner.js';
import { summarizeRepo } from '../review/repo-summary.js';
import { checkSpec } from '../spec/parse.js';
import type { WorkspaceClient } from './workspace.js';

export interface PlanOutcome {
  /** Workspace-relative paths of the files written. */
  written: { id: string; file: string }[];
  dropped: { id: string; reason: string }[];
  repaired: boolean;
  usage: Usage | null;
}

export async function runPlan(
  client: WorkspaceClient,
  opts: {
    goal: string;
    repo?: string;
    queue?: boolean;
    env: NodeJS.ProcessEnv;
    log?: (line: string) => void;
    /** Replaces the configured architect (tests, and the claude-code mode). */
    writer?: ArchitectWriter;
  },
): Promise<PlanOutcome> {
  const { config, paths } = client;
  const repos = Object.keys(config.repos);
  const repoName = opts.repo ?? config.defaults.repo ?? repos[0];
  const repoCfg = repoName ? config.repos[repoName] : undefined;
  if (!repoName || !repoCfg) {
    throw new NightshiftError(
      ErrorCode.invalidConfig,
      `unknown repo "${opts.repo ?? ''}": expected one the config names (${repos.join(', ') || 'none'})`,
      { field: 'repos', hint: 'pass --repo <name> with a repo from nightshift.config.yaml' },
    );
  }
  const writer = opts.writer ?? architectWriter(config.architect, opts.env, opts.log ?? (() => {}), paths);
  if (!writer) {
    const why =
      config.architect.mode === 'llm' || config.architect.mode === 'claude-code'
        ? missingCredential(config.architect).split(': falling back')[0]
        : `architect.mode is ${config.architect.mode}`;
    throw new NightshiftError(ErrorCode.invalidConfig, `plan needs an architect that writes: ${why}`, {
      field: 'architect.mode',
      hint: 'set architect.mode: llm or claude-code and export its key (docs/architect.md)',
    });
  }
  const repo = new Repo(resolveRepoPath(paths.root, repoCfg.path, os.homedir()));
  if (!(await repo.revParse(repoCfg.main))) {
    throw new NightshiftError(
      ErrorCode.invalidConfig,
      `repo "${repoName}" has no branch ${repoCfg.main} at ${repo.dir}`,
      { field: `repos.${repoName}.main` },
    );
  }
  const tasks = client.store.list();
  const summary = await summarizeRepo(
    repo,
    repoCfg.main,
    opts.goal,
    tasks.map((t) => t.id),
  );
  const result = await planSpecs({
    goal: opts.goal,
    repo: repoName,
    summary,
    config,
    queued: graphOf(tasks),
    writer,
    checkout: { name: repoName, dir: repo.dir, main: repoCfg.main },
  });
  if (result.failure) {
    throw new NightshiftError(ErrorCode.invalidSpec, `the architect drafted nothing: ${result.failure}`, {
      field: 'architect',
    });
  }
  // The call's tokens count as the architect's share of the night in the report (no task to put them on).
  if (result.usage) {
    client.events.emit(
      architectUsageEvent(
        new Date(client.clock.now()).toISOString(),
        'plan',
        result.usage,
        config.architect.price,
      ),
    );
  }
  const dir = opts.queue ? paths.specs : paths.drafts;
  const outcome: PlanOutcome = {
    written: [],
    dropped: [...result.dropped],
    repaired: result.repaired,
    usage: result.usage,
  };
  for (const d of result.drafts) {
    const parsed = checkSpec(Buffer.from(d.text), { file: `${d.id}.md`, config }).spec;
    const dup = parsed ? draftDuplicate(paths, config, client.store, parsed.dedupKey) : null;
    if (dup) {
      outcome.dropped.push({ id: d.id, reason: dup });
      continue;
    }
    const name = writeSpecFile(dir, d.id, d.text);
    outcome.written.push({ id: d.id, file: path.relative(paths.root, path.join(dir, name)) });
  }
  return outcome;
}
