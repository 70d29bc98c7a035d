/**
 * Which executor session a later review round continues (docs/providers.md): the session of the task's
 * latest earlier attempt by the same provider on the same host (its session files live in that host's
 * per-provider state directory), as that attempt's output names it. Round 0 never resumes. Pure: the
 * caller reads the attempts' logs.
 */
import type { TaskRecord } from '../core/task.js';

/**
 * The session id the attempt now starting (the task's last) resumes, or null. `sessionOf(n)` is the
 * session attempt n's output names (the provider's reading of its log), or null.
 */
export function resumeSessionFor(
  task: Pick<TaskRecord, 'round' | 'attempts'>,
  provider: string,
  host: string,
  sessionOf: (attempt: number) => string | null,
): string | null {
  if (task.round === 0) return null;
  for (let i = task.attempts.length - 2; i >= 0; i--) {
    const a = task.attempts[i];
    if (!a || a.provider !== provider || a.host !== host) continue;
    const session = sessionOf(a.n);
    if (session) return session;
  }
  return null;
}
