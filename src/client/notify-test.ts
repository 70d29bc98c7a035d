/**
 * `nightshift notify test`: one test notice to each configured notifier (daemon/notify.ts), sent now
 * with no retries, and how each went. A notifier is named by index, kind and variable, never its URL.
 */
import type { Clock } from '../lib/clock.js';
import type { Config } from '../config/schema.js';
import { secretRedactor } from '../config/secrets.js';
import { realTimers } from '../daemon/loop.js';
import { Notifier, resolveTargets } from '../daemon/notify.js';

export interface NotifyTestResult {
  name: string;
  ok: boolean;
  reason: string;
}

export async function testNotifiers(
  config: Config,
  env: NodeJS.ProcessEnv,
  clock: Clock,
  fetchImpl: typeof fetch = globalThis.fetch,
): Promise<NotifyTestResult[]> {
  const { targets, problems } = resolveTargets(config, env);
  const redact = secretRedactor(config, env);
  const notifier = new Notifier(targets, {
    fetch: fetchImpl,
    timers: realTimers,
    now: () => clock.now(),
    redact,
    log: () => undefined,
    gaveUp: () => undefined,
  });
  const sent = await notifier.sendNow({
    kind: 'test',
    title: 'nightshift: test notice',
    text: 'This notifier works: nightshift will send the morning report, open breakers, parked tasks and unexpected stops here.',
  });
  const unusable = problems.map((p) => {
    const at = p.indexOf(': ');
    return { name: at > 0 ? p.slice(0, at) : p, ok: false, reason: at > 0 ? p.slice(at + 2) : p };
  });
  return [...sent, ...unusable].map((r) => ({ ...r, reason: redact(r.reason) }));
}
