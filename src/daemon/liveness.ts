/**
 * Which running attempts a liveness check ends, and when the monitor breaker holds kills back. Pure.
 *
 * A start-to-close timeout always applies: an attempt past it is killed whatever else is happening (the
 * seed's hung provider is exactly the case where most attempts pass it together). Idleness is a guess
 * from silence; when more than half of the running attempts fall silent at once, the silence is more
 * likely the hosts' or the provider's than the executors', so those kills are held back and the breaker
 * trips instead. It reports once per episode, and again at most once per monitor cycle while the episode
 * lasts; it freezes dispatch only when an episode begins, so a person's thaw is not undone at the next
 * check.
 */
import type { TaskId } from '../core/ids.js';

export interface LivenessInput {
  id: TaskId;
  startedMono: number;
  progressMono: number;
  timeoutMs: number;
  idleMs: number;
  /**
   * How long its host has been unreachable (ms), or null. An attempt on an unreachable host cannot be
   * judged (no output arrives, whatever it does): neither its timeout nor its idleness applies, and past
   * the grace it is given up as lost with its host, the worker's failure.
   */
  hostDownMs?: number | null;
}

export interface Doomed {
  id: TaskId;
  code: 'timeout' | 'idle';
  reason: string;
}

/** The breaker's memory between checks. */
export interface BreakerEpisode {
  /** When the episode began (monotonic ms). */
  sinceMono: number;
  /** When it was last reported (monotonic ms). */
  reportedMono: number;
}

export interface LivenessVerdict {
  /** Attempts to end now. */
  kill: Doomed[];
  /** Idle attempts the breaker holds back (not killed this check). */
  held: Doomed[];
  /** The breaker's state after this check (null: no episode). */
  episode: BreakerEpisode | null;
  /** Set when this check should report the breaker (a monitor.breaker event). */
  report: string | null;
  /** Whether this check should freeze dispatch (only when an episode begins). */
  freeze: boolean;
  /** Attempts whose host has been unreachable longer than the grace: give them up (the worker's failure). */
  lost: Doomed[];
}

export function judgeLiveness(
  running: readonly LivenessInput[],
  now: number,
  episode: BreakerEpisode | null,
  reportEveryMs: number,
  hostLostGraceMs = Infinity,
): LivenessVerdict {
  const timeouts: Doomed[] = [];
  const idle: Doomed[] = [];
  const lost: Doomed[] = [];
  const judged: LivenessInput[] = [];
  for (const r of running) {
    if (r.hostDownMs != null) {
      if (r.hostDownMs > hostLostGraceMs)
        lost.push({
          id: r.id,
          code: 'idle',
          reason: `its host has been unreachable for ${Math.round(r.hostDownMs / 1000)} s (defaults.hostLostGrace)`,
        });
      continue;
    }
    judged.push(r);
    if (now - r.startedMono > r.timeoutMs) {
      timeouts.push({
        id: r.id,
        code: 'timeout',
        reason: `ran longer than its timeout (${Math.round(r.timeoutMs / 1000)} s)`,
      });
    } else if (now - r.progressMono > r.idleMs) {
      idle.push({
        id: r.id,
        code: 'idle',
        reason: `no output and no commits for ${Math.round((now - r.progressMono) / 1000)} s`,
      });
    }
  }
  const trips = judged.length >= 2 && timeouts.length + idle.length > judged.length / 2 && idle.length > 0;
  if (!trips)
    return { kill: [...timeouts, ...idle], held: [], episode: null, report: null, freeze: false, lost };
  const begins = episode === null;
  const due = begins || now - episode.reportedMono >= reportEveryMs;
  const next: BreakerEpisode = {
    sinceMono: episode?.sinceMono ?? now,
    reportedMono: due ? now : episode.reportedMono,
  };
  const timedOut = timeouts.length
    ? `; ${timeouts.length} past their timeout killed (${timeouts.map((d) => d.id).join(', ')})`
    : '';
  const report = due
    ? `${idle.length + timeouts.length} of ${judged.length} running tasks look stuck at once; held back the idle kill of ${idle.map((d) => d.id).join(', ')}${timedOut}${begins ? ' and froze dispatch' : ' (still)'} — check the hosts and providers, then thaw`
    : null;
  return { kill: timeouts, held: idle, episode: next, report, freeze: begins, lost };
}
