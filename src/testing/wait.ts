import os from 'node:os';

/** The most a deadline is stretched on a busy machine. */
const MAX_STRETCH = 4;

/**
 * How much longer deadlines run on this machine now: its load per core (1-minute average), from 1 (an idle
 * or lightly loaded machine) up to MAX_STRETCH. A deadline only decides how long a failing wait takes to
 * say so; a passing one ends when its predicate holds, so stretching costs a passing suite nothing.
 */
export function deadlineStretch(
  load = os.loadavg()[0] ?? 0,
  cores = os.availableParallelism(),
): { factor: number; load: number; cores: number } {
  const n = Math.max(1, cores);
  return { factor: Math.min(MAX_STRETCH, Math.max(1, load / n)), load, cores: n };
}

/**
 * Waits on a predicate (polling, with a deadline) — never a fixed sleep. The deadline is `timeoutMs` on a
 * quiet machine and up to MAX_STRETCH times that on a busy one (deadlineStretch), so a suite that passes
 * at a load of 1 does not fail at 6 because its processes got less of a core.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const stretch = deadlineStretch();
  const allowedMs = Math.round(timeoutMs * stretch.factor);
  const deadline = Date.now() + allowedMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const stretched =
        allowedMs > timeoutMs
          ? ` (${timeoutMs} ms stretched for a load of ${stretch.load.toFixed(1)} on ${stretch.cores} cores)`
          : '';
      throw new Error(`timed out after ${allowedMs} ms${stretched} waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
