/**
 * The `claude-code` ArchitectWriter (docs/architect.md, "Planning" and "Follow-ups"): the architect
 * writes specs in a headless Claude Code session (askClaudeArchitect) that explores the repository
 * itself. Its working directory is a fresh isolated checkout of the repo's main branch
 * (git/gate-checkout.ts: no ref of the supervisor's repository, no hooks), under
 * work/<repo>/.architect-<purpose>, removed after the call; its tools are Read, Grep and Glob only (no
 * Bash: writing a spec runs nothing). It runs in its own tmux session on the architect's socket
 * (`ns-architect-plan`, `ns-architect-follow-up`), one call at a time per writer, since a session name
 * is one session. Never throws: a failure is a reason.
 */
import os from 'node:os';
import type { WorkspacePaths } from '../config/paths.js';
import { prepareGateCheckout, removeGateCheckout } from '../git/gate-checkout.js';
import { Repo } from '../git/repo.js';
import { architectSocketPath } from '../hosts/layout.js';
import { LocalRunner } from '../hosts/runner.js';
import { architectSessionName } from '../hosts/tmux.js';
import type { ArchitectConfig, Env } from './architect-credential.js';
import { TmuxArchitectSessions, type ArchitectSessions } from './architect-tmux.js';
import type { ArchitectWriter, WriterRequest, WriterResult } from './writer-port.js';
import { askClaudeArchitect } from './claude-architect.js';

export type WriterPaths = Pick<WorkspacePaths, 'architectDir' | 'gateCheckout'>;

/** The tmux sessions on the supervisor's host, on the architect's socket (as reviews use). */
export function tmuxArchitectSessions(
  paths: Pick<WorkspacePaths, 'architectDir'>,
  env: Env,
): ArchitectSessions {
  return new TmuxArchitectSessions({
    runner: new LocalRunner(),
    dir: paths.architectDir,
    socket: architectSocketPath(paths),
    env: { path: env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', home: env['HOME'] ?? os.homedir() },
  });
}

/** What the session is told beyond the writer's own system prompt: where it is, and how to answer. */
export function claudeWriterNote(toolName: string): string {
  return (
    "The current directory is a read-only checkout of the repository's main branch. Explore it with " +
    'Read, Grep and Glob before you write: read the code the specs will change and the tests beside it, ' +
    'so that file names, function names and test names in your specs are real. Change nothing.\n' +
    `In this session the ${toolName} tool is the StructuredOutput tool: call StructuredOutput exactly ` +
    `once with the input ${toolName} takes.`
  );
}

/** The checkout a writer's session explores: dot-named, so no task id can take it. */
export const writerCheckout = (paths: WriterPaths, repo: string, purpose: WriterRequest['purpose']): string =>
  paths.gateCheckout(repo, `.architect-${purpose}`);

export function claudeWriter(
  config: ArchitectConfig,
  env: Env,
  opts: { paths: WriterPaths; sessions?: ArchitectSessions; log?: (line: string) => void },
): ArchitectWriter {
  const sessions = opts.sessions ?? tmuxArchitectSessions(opts.paths, env);
  const log = opts.log ?? (() => {});
  let queue: Promise<unknown> = Promise.resolve();
  const write = async (req: WriterRequest): Promise<WriterResult> => {
    if (!req.repo) {
      return {
        ok: false,
        reason: `no repository to explore (${req.purpose}): WriterRequest.repo is unset`,
        usage: null,
      };
    }
    const repo = new Repo(req.repo.dir);
    const commit = (await repo.revParse(req.repo.main))?.trim();
    if (!commit) {
      return {
        ok: false,
        reason: `repo "${req.repo.name}" has no branch ${req.repo.main} at ${req.repo.dir} (repos.${req.repo.name}.main)`,
        usage: null,
      };
    }
    const dir = writerCheckout(opts.paths, req.repo.name, req.purpose);
    try {
      await prepareGateCheckout(repo.dir, dir, commit);
    } catch (e) {
      return {
        ok: false,
        reason: `the architect's checkout of ${req.repo.name} at ${dir} failed: ${String(e)}`,
        usage: null,
      };
    }
    try {
      const r = await askClaudeArchitect({
        cwd: dir,
        prompt: req.prompt,
        schema: req.schema,
        jsonSchema: req.jsonSchema,
        allowedTools: [],
        systemPrompt: `${req.system}\n\n${claudeWriterNote(req.toolName)}`,
        config,
        env,
        architectDir: opts.paths.architectDir,
        session: architectSessionName(req.purpose),
        sessions,
        log,
        root: process.getuid?.() === 0,
      });
      return r.ok
        ? { ok: true, value: r.value, usage: r.usage }
        : { ok: false, reason: `${r.reason} (${r.code})`, usage: r.usage };
    } finally {
      await removeGateCheckout(repo.dir, dir).catch(() => undefined);
    }
  };
  // One call at a time: a second run in the same tmux session would kill the first.
  return (req) => {
    const next = queue.then(
      () => write(req),
      () => write(req),
    );
    queue = next.catch(() => undefined);
    return next.catch((e: unknown) => ({
      ok: false as const,
      reason: `architect writer failed: ${String(e)}`,
      usage: null,
    }));
  };
}
