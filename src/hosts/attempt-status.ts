/**
 * The liveness of a host's attempts, read in one round trip (status.sh) and parsed by a pure function
 * (parseStatuses): panes, exit records, log sizes, branch tips.
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { TaskId } from '../core/ids.js';
import { STATUS_SH } from './scripts.js';
import { parsePanes } from './tmux.js';
import type { AttemptStatus, ExitRecord, HostContext } from './worker-types.js';

export interface AttemptRef {
  repo: string;
  id: TaskId;
  attempt: number;
}

/**
 * The liveness of several attempts on this host in one round trip, whatever their number (STATUS_SH):
 * every pane, then each attempt's exit.json, log size and branch tip. Results are in the order asked.
 * A pane is as seen just before the files: with an exit record it may still be alive for an instant,
 * the runner's last (it signals the exit channel and ends).
 */
export async function readStatuses(
  host: HostContext,
  attempts: readonly AttemptRef[],
): Promise<AttemptStatus[]> {
  if (attempts.length === 0) return [];
  const mirrors = [...new Set(attempts.map((a) => host.mirror(a.repo)))];
  const logs = attempts.map((a) => host.logPath(a.id, a.attempt));
  const r = await host.runner.run([
    'sh',
    '-c',
    STATUS_SH,
    'sh',
    ...host.tmux.shellBase(),
    String(attempts.length),
    String(mirrors.length),
    ...attempts.map((a) => host.taskDir(a.id)),
    ...mirrors,
    ...logs,
  ]);
  const statuses =
    r.exitCode === 0
      ? parseStatuses(
          r.stdout,
          attempts,
          mirrors,
          logs,
          (repo) => host.mirror(repo),
          (id) => host.session(id),
        )
      : null;
  if (!statuses) {
    throw new NightshiftError(
      ErrorCode.io,
      `could not read the attempts' status: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
      { host: host.name },
    );
  }
  return statuses;
}

/**
 * status.sh's output for `attempts` (with `mirrors` and `logs` as passed to it; `mirrorOf` maps a repo to
 * its mirror, `sessionOf` a task to its session's name), in the order asked; null when the output lacks a section. An exit record is taken only when
 * it is the asked attempt's (a stale record of an earlier attempt is no exit of this one).
 */
export function parseStatuses(
  stdout: string,
  attempts: readonly AttemptRef[],
  mirrors: readonly string[],
  logs: readonly string[],
  mirrorOf: (repo: string) => string,
  sessionOf: (id: TaskId) => string,
): AttemptStatus[] | null {
  const sections = stdout.split('\n.\n');
  if (sections.length < 4) return null;
  const [paneText = '', exitText = '', refText = '', sizeText = ''] = sections;
  const panes = parsePanes(
    paneText
      .split('\n')
      .filter((l) => l.startsWith('pane\t'))
      .map((l) => l.slice('pane\t'.length))
      .join('\n'),
  );
  const exits = exitText.split('\n');
  // "<sha> refs/heads/ns/<id>" lines under "mirror <k>": tips by mirror, then id.
  const tips = new Map<string, string>();
  let mirror = '';
  for (const line of refText.split('\n')) {
    const header = /^mirror (\d+)$/.exec(line);
    if (header) mirror = mirrors[Number(header[1])] ?? '';
    const ref = /^([0-9a-f]{40,64}) refs\/heads\/ns\/(.+)$/.exec(line);
    if (ref?.[1] && ref[2]) tips.set(`${mirror}\n${ref[2]}`, ref[1]);
  }
  // `wc -c` lines: "<bytes> <path>", plus a "total" line when there are several files.
  const sizes = new Map<string, number>();
  for (const line of sizeText.split('\n')) {
    const m = /^\s*(\d+) (.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) sizes.set(m[2], Number(m[1]));
  }
  const paneOf = (id: TaskId) => panes.find((p) => p.session === sessionOf(id)) ?? null;
  return attempts.map((a, i) => {
    let exit: ExitRecord | null = null;
    try {
      const parsed = JSON.parse(exits[i] ?? '') as ExitRecord;
      if (parsed.attempt === a.attempt) exit = parsed;
    } catch {
      exit = null;
    }
    return {
      pane: paneOf(a.id),
      exit,
      logBytes: sizes.get(logs[i] ?? '') ?? 0,
      head: tips.get(`${mirrorOf(a.repo)}\n${a.id}`) ?? null,
    };
  });
}
