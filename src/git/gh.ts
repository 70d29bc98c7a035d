/**
 * The one way nightshift runs the GitHub CLI (`gh`, docs/integrations.md#github): node's execFile with
 * an argv array and never a shell, stdin closed (gh must never wait on a prompt: GH_PROMPT_DISABLED),
 * no pager, no colour, a timeout. The answer is returned, never thrown: whether a failure is the
 * remote's or the caller's is the caller's decision. Text that came from a spec, an issue or an executor
 * goes to gh only as the value of a `--flag=value` argument or inside a file, never as an argument of
 * its own (gh would read one starting with "-" as a flag).
 */
import { execFile, type ExecFileException } from 'node:child_process';
import { noteSpawn } from '../lib/activity.js';

export interface GhResult {
  ok: boolean;
  /** gh's exit status; null when it did not exit by itself (not found, timed out, killed). */
  status: number | null;
  stdout: string;
  stderr: string;
  /** One line for a message: what went wrong (empty when ok). */
  why: string;
}

export interface GhOptions {
  /** The directory gh runs in: a checkout whose remotes say which GitHub repository is meant. */
  cwd: string;
  /** The supervisor's environment: PATH finds gh, GH_TOKEN/GITHUB_TOKEN or gh's own login authenticate. */
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export const GH_TIMEOUT_MS = 120_000;

/** The environment gh runs in: the caller's, with prompts, pagers, colour and update checks off. */
export function ghEnvironment(from: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) if (value !== undefined) env[name] = value;
  return {
    ...env,
    GH_PROMPT_DISABLED: '1',
    GH_PAGER: 'cat',
    PAGER: 'cat',
    NO_COLOR: '1',
    GH_NO_UPDATE_NOTIFIER: '1',
    GH_SPINNER_DISABLED: '1',
  };
}

export async function runGh(args: readonly string[], opts: GhOptions): Promise<GhResult> {
  const { err, stdout, stderr } = await new Promise<{
    err: ExecFileException | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    noteSpawn();
    const child = execFile(
      'gh',
      [...args],
      {
        cwd: opts.cwd,
        env: ghEnvironment(opts.env),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        windowsHide: true,
        timeout: opts.timeoutMs ?? GH_TIMEOUT_MS,
      },
      (e, out, errOut) => resolve({ err: e, stdout: out, stderr: errOut }),
    );
    child.stdin?.end();
  });
  if (!err) return { ok: true, status: 0, stdout, stderr, why: '' };
  const status = typeof err.code === 'number' ? err.code : null;
  const notFound = err.code === 'ENOENT';
  const said = (stderr || stdout).trim().split('\n').filter(Boolean).slice(0, 3).join('; ').slice(0, 400);
  const why = notFound
    ? 'gh is not installed or not on PATH (https://cli.github.com)'
    : err.killed
      ? `gh timed out after ${Math.round((opts.timeoutMs ?? GH_TIMEOUT_MS) / 1000)}s`
      : `gh exited with ${status ?? String(err.signal ?? err.code)}${said ? `: ${said}` : ''}`;
  return { ok: false, status, stdout, stderr, why };
}
