/**
 * The live watchdog on a Claude Code run (REFERENCE.md: claude retries a refused credential for minutes;
 * kill on the first `api_retry` with 401/403/404). The `claude` on PATH here is a stand-in executable at
 * the process boundary: it answers the probe, and in a run prints the stream-json lines the real CLI
 * prints when the endpoint answers 401, then keeps "retrying" (it waits, as the CLI's backoff does). Only
 * the supervisor's live check can end that attempt before its timeout.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeNight, type Night } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';

let night: Night | null = null;
const savedPath = process.env['PATH'];
afterEach(async () => {
  process.env['PATH'] = savedPath;
  await night?.cleanup();
  night = null;
});

const RETRY_401 = JSON.stringify({
  type: 'system',
  subtype: 'api_retry',
  attempt: 1,
  max_retries: 4,
  retry_delay_ms: 600,
  error_status: 401,
  error: 'authentication_failed',
});

/** A `claude` that passes the probe (json output with the nonce) and, in a run, hits a 401 retry loop. */
function fakeClaude(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const init = JSON.stringify({ type: 'system', subtype: 'init', model: 'glm-test' });
  const script = [
    '#!/bin/sh',
    'case " $* " in',
    '  *" --output-format json "*)',
    `    nonce=$(printf '%s' "$*" | grep -o 'ns-probe-[0-9a-f]*' | head -n 1)`,
    `    printf '{"type":"result","subtype":"success","is_error":false,"result":"%s"}\\n' "$nonce"`,
    '    exit 0 ;;',
    'esac',
    `printf '%s\\n' '${init}'`,
    // Half a line first: the watchdog must judge complete lines only.
    `printf '%s' '${RETRY_401.slice(0, 40)}'`,
    'sleep 1',
    `printf '%s\\n' '${RETRY_401.slice(40)}'`,
    'sleep 600',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'claude'), script);
  chmodSync(path.join(dir, 'claude'), 0o755);
}

describe('a Claude Code run whose endpoint refuses the key', () => {
  it('is killed at the first 401 retry, as a provider failure that does not use up an attempt', async () => {
    night = makeNight({
      providers: '  glm: { kind: claude-code, hosts: [local], concurrency: 1, model: glm-test }',
      extra: 'defaults: { retryInitial: 1h, retryMax: 1h, livenessEvery: 1s, monitorEvery: 1h }',
    });
    const bin = path.join(night.root, 'fake-bin');
    fakeClaude(bin);
    process.env['PATH'] = `${bin}:${savedPath ?? ''}`;
    const sup = night.supervisor();
    await sup.start();
    night.dropSpec(
      'refused.md',
      [
        '---',
        'title: A task for a refused key',
        'id: refused',
        'timeout: 10m',
        'idle: 10m',
        '---',
        'Any body: the executor never gets as far as reading it, because the endpoint refuses the key.',
        '',
      ].join('\n'),
    );
    // Generous: the 10-minute timeout and idle limits are the only other ways this attempt ends.
    const task = await waitFor(
      'the first attempt to end',
      () => {
        const t = sup.store.list().find((x) => x.id === 'refused');
        const outcome = t?.attempts[0]?.outcome;
        return outcome && outcome !== 'running' && outcome !== 'collecting' ? t : undefined;
      },
      120_000,
    );
    const attempt = task.attempts[0]!;
    expect(attempt).toMatchObject({ outcome: 'failed', code: 'auth', attribution: 'provider' });
    // The live check ended it (its reason), not the timeout or idle limit: no wall-clock bound needed.
    expect(attempt.reason).toMatch(/401.*killed at once/);
    // A provider failure: back to pending (its retry is an hour away), the attempt not charged.
    expect(task.state).toBe('pending');
    expect(sup.fleet.health.get('glm')?.reason ?? '').toMatch(/401/);
  });
});
