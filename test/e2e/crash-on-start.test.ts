/**
 * Launch-time provider/spec boundaries, through the real daemon.
 * - Crash on start: an executor that dies at once, with no commit and almost no output, is charged to
 *   the provider (it uses up none of the spec's attempts and feeds the breaker) and still cannot loop
 *   forever (the third such crash makes the task poison); one that commits first and then fails stays
 *   the spec's.
 * - A prompt too long for one argv word, for a command that takes it as one: refused at dispatch,
 *   never launched, never an E2BIG crash.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';
import { tid } from '../../src/testing/ids.js';

let night: Night | null = null;
afterEach(async () => {
  await night?.cleanup();
  night = null;
});

describe('crash on start (daemon)', () => {
  it("charges an instant crash to the provider, bounds it by poison, and keeps a late failure the spec's", async () => {
    night = makeNight({
      providers: '  sim: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: 'defaults: { retryInitial: 1s, retryMax: 1s, livenessEvery: 1s, monitorEvery: 1h }',
    });
    const sup = night.supervisor({ probeBackoff: { initialMs: 500, maxMs: 500 } });
    await sup.start();
    // One attempt each: "boom" is tried three times all the same, because a crash on start uses none.
    night.dropSpec('boom.md', scriptedSpec('boom', 'exit 3', ['attempts: 1']));
    night.dropSpec(
      'late.md',
      scriptedSpec('late', 'write a.txt "a\\n"\ncommit "a"\nexit 3', ['attempts: 1']),
    );
    await waitFor(
      'both tasks failed',
      () => ['boom', 'late'].every((id) => sup.store.list().find((t) => t.id === id)?.state === 'failed'),
      60_000,
    );
    const boom = sup.store.get(tid('boom'));
    expect(boom.attempts.map((a) => `${a.code} ${a.attribution}`)).toEqual([
      'crash-on-start provider',
      'crash-on-start provider',
      'poison spec',
    ]);
    expect(boom.attempts[0]?.reason).toMatch(
      /^exited 3 \d+ s after start, with no commit and almost no output/,
    );
    expect(boom.failure?.reason).toMatch(/^executor crashed 3 times; last: exited 3 /);
    const late = sup.store.get(tid('late'));
    expect(late.attempts.map((a) => `${a.code} ${a.attribution}`)).toEqual(['attempts-exhausted spec']);
    expect(late.attempts[0]?.reason).toMatch(/scripted agent exited 3/);
  });

  it('refuses a prompt over one argv word for a command that takes it as one, before any launch', async () => {
    night = makeNight({
      providers: `  word: { kind: command, hosts: [local], concurrency: 1, command: [sh, -c, 'printf "%s\\n" "$1" | grep -o "ns-probe-[0-9a-f]*"; exit 0', sh, '{{nightshift:prompt}}'] }`,
      extra: 'defaults: { retryInitial: 1s, retryMax: 1s, livenessEvery: 1s, monitorEvery: 1h }',
    });
    const sup = night.supervisor({ probeBackoff: { initialMs: 500, maxMs: 500 } });
    await sup.start();
    // About 150 KiB: a valid spec (up to 1 MiB), but more than one argv word can hold.
    const body = 'A long spec line that the agent must read in full.\n'.repeat(3000);
    night.dropSpec('big.md', `${scriptedSpec('big', 'exit 0')}\n${body}`);
    await waitFor(
      'big failed',
      () => sup.store.list().find((t) => t.id === 'big')?.state === 'failed',
      30_000,
    );
    const big = sup.store.get(tid('big'));
    expect(big.attempts.map((a) => `${a.code} ${a.attribution}`)).toEqual(['prompt-too-large spec']);
    expect(big.failure?.reason).toMatch(
      /^task big, provider word: the prompt is \d+ bytes, and this provider takes it as one argv word, which Linux limits to 131071 bytes — shorten the spec, or give the provider's command \{\{nightshift:prompt-file\}\}/,
    );
    // Never launched: no attempt log was ever mirrored.
    expect(existsSync(night.paths.attemptLog('big', 1))).toBe(false);
  });
});
