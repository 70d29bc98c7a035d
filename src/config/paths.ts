/**
 * The only module that knows where things live in a workspace. Everything else asks it.
 * The workspace is `--workspace`, else $NIGHTSHIFT_WORKSPACE, else the current directory.
 */
import path from 'node:path';
import type { TaskState } from '../core/task.js';

export const CONFIG_FILE_NAME = 'nightshift.config.yaml';

export interface WorkspacePaths {
  root: string;
  configFile: string;
  specs: string;
  accepted: string;
  rejected: string;
  /** Specs the architect drafted (`nightshift plan`, follow-ups, imports), waiting for a person: queue/drafts.ts. */
  drafts: string;
  queue: string;
  tmp: string;
  requests: string;
  requestsApplied: string;
  /** Request files that could not be read or parsed, kept for a person to look at. */
  requestsRejected: string;
  stateStore: string;
  lock: string;
  /** The daemon's published view of providers, hosts and waiting reasons. */
  daemonState: string;
  /** Every task record as last written, checked against task.json before use (queue/task-index.ts). */
  taskIndex: string;
  /** The workspace's id on shared worker hosts (config/workspace-identity.ts). */
  workspaceIdFile: string;
  daemonLog: string;
  logs: string;
  events: string;
  reports: string;
  /**
   * Where the branch's code runs (docs/gates.md): a repository of its own per task, work/<repo>/<id>,
   * and one per repo for the merge queue's staged trees, work/<repo>/.gate-staging. Neither holds a ref
   * of the supervisor's repository; they borrow its objects through `objects/info/alternates`.
   */
  gateCheckout(repo: string, id: string): string;
  stagingGateCheckout(repo: string): string;
  /** The supervisor's own linked worktree where merges are staged (our git only, never the branch's code). */
  stagingWorktree(repo: string): string;
  /** The isolated checkout (like gateCheckout's) where tests-kept runs a branch's base to count its tests. */
  baseWorktree(repo: string): string;
  /** How many tests each base commit's suite ran, kept so that one base's suite runs once. */
  baseTestCounts: string;
  /**
   * The claude-code architect's own directory (docs/architect.md): its Claude Code config and sessions
   * (`claude/`), its tmux socket (`tmux/`) and each session's files (`runs/<session>/`). 0700.
   */
  architectDir: string;
  stateDir(state: TaskState): string;
  taskDir(state: TaskState, id: string): string;
  attemptLog(id: string, attempt: number): string;
  /** The gate log of the repo's beforeGate hook runs for a task (docs/integrations.md#setup-hooks). */
  beforeGateLog(id: string): string;
  /** How many bytes of the host's log attemptLog holds (redaction changes lengths): for adoption. */
  attemptMirrored(id: string, attempt: number): string;
  /** The attempt's last screen, kept before a kill. */
  attemptScreen(id: string, attempt: number): string;
  /** The diff a review round judged, for the TUI's Review tab. */
  diffPatch(id: string, round: number): string;
  /** logs/architect/<id>-r<round>.log: the llm architect's streamed text of one review (the Architect view). */
  architectStream(id: string, round: number): string;
}

export function workspacePaths(root: string): WorkspacePaths {
  const abs = path.resolve(root);
  const queue = path.join(abs, 'queue');
  const logs = path.join(abs, 'logs');
  return {
    root: abs,
    configFile: path.join(abs, CONFIG_FILE_NAME),
    specs: path.join(abs, 'specs'),
    accepted: path.join(abs, 'specs', '.accepted'),
    rejected: path.join(abs, 'specs', '.rejected'),
    drafts: path.join(abs, 'specs', 'drafts'),
    queue,
    tmp: path.join(queue, 'tmp'),
    requests: path.join(queue, 'requests'),
    requestsApplied: path.join(queue, 'requests', '.applied'),
    requestsRejected: path.join(queue, 'requests', '.rejected'),
    stateStore: path.join(queue, 'state'),
    lock: path.join(queue, 'lock'),
    daemonState: path.join(queue, 'state', 'daemon.json'),
    taskIndex: path.join(queue, 'state', 'task-index.jsonl'),
    workspaceIdFile: path.join(queue, 'state', 'workspace-id'),
    daemonLog: path.join(logs, 'daemon.log'),
    logs,
    events: path.join(logs, 'events.jsonl'),
    reports: path.join(abs, 'reports'),
    gateCheckout: (repo, id) => path.join(abs, 'work', repo, id),
    stagingGateCheckout: (repo) => path.join(abs, 'work', repo, '.gate-staging'),
    stagingWorktree: (repo) => path.join(abs, 'work', repo, '.staging'),
    baseWorktree: (repo) => path.join(abs, 'work', repo, '.base'),
    baseTestCounts: path.join(queue, 'state', 'base-tests.json'),
    architectDir: path.join(abs, 'architect'),
    stateDir: (state) => path.join(queue, state),
    taskDir: (state, id) => path.join(queue, state, id),
    attemptLog: (id, attempt) => path.join(logs, id, `attempt-${attempt}.log`),
    beforeGateLog: (id) => path.join(logs, id, 'before-gate.log'),
    attemptMirrored: (id, attempt) => path.join(logs, id, `attempt-${attempt}.mirrored`),
    attemptScreen: (id, attempt) => path.join(logs, id, `attempt-${attempt}.screen.txt`),
    diffPatch: (id, round) => path.join(logs, id, `diff-round-${round}.patch`),
    architectStream: (id, round) => path.join(logs, 'architect', `${id}-r${round}.log`),
  };
}

/**
 * A local path from the config (a repo, an ssh key or ssh config file): `~/` is the user's home, relative
 * paths are from the workspace.
 */
export function resolveRepoPath(root: string, repoPath: string, home: string): string {
  if (repoPath === '~') return home;
  if (repoPath.startsWith('~/')) return path.join(home, repoPath.slice(2));
  return path.resolve(root, repoPath);
}

export function resolveWorkspaceRoot(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  return path.resolve(cwd, flag ?? env['NIGHTSHIFT_WORKSPACE'] ?? '.');
}
