/**
 * Issue 16.1, setup hooks per repository, on whole nights with real git and tmux and a scripted executor:
 * a failing or slow hook is the repo's problem (no attempt of the spec is used; the reason names the
 * repo and the hook), a repo whose hooks keep failing waits until a reload, afterCreate is restored from
 * the host's cache for the same key, afterRun runs when the executor fails or is killed at its timeout,
 * and beforeGate runs in the gate checkout.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskId } from '../../src/core/ids.js';
import type { Supervisor } from '../../src/daemon/supervisor.js';
import { git } from '../../src/testing/git.js';
import { makeNight, type Night, scriptedSpec } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';

let night: Night | null = null;
let scratch: string | null = null;
afterEach(async () => {
  await night?.cleanup();
  night = null;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = null;
});

const tid = (id: string) => id as TaskId;
const find = (sup: Supervisor, id: string) => sup.store.list().find((t) => t.id === id);
const PROVIDER = '  sim: { kind: scripted, hosts: [local], concurrency: 1 }';
const FAST = 'defaults: { retryInitial: 1s, retryMax: 1s, livenessEvery: 1s, monitorEvery: 1h }';

function dir(): string {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'ns-hooks-'));
  return scratch;
}
/** Whether a process whose command line contains `words` runs here (Linux /proc). */
function running(words: string): boolean {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(words)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}
const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

describe('setup hooks', () => {
  it('a failing beforeRun uses no attempt, names the repo and the hook, and holds the repo after three', async () => {
    night = makeNight({
      providers: PROVIDER,
      extra: FAST,
      repoOptions: `hooks: { beforeRun: { command: [sh, -c, 'echo the-setup-broke; exit 4'], timeout: 30s } }`,
    });
    const log: string[] = [];
    const sup = night.supervisor({ log: (line) => log.push(line) });
    await sup.start();
    night.dropSpec('a.md', scriptedSpec('a', 'write a.txt "a\\n"\ncommit "a"', ['attempts: 1']));
    await waitFor(
      'the repo held',
      () => log.some((l) => l.includes('hook-failing: the setup hooks of repo app')),
      90_000,
    );
    const a = sup.store.get(tid('a'));
    expect(a.attempts.map((x) => `${x.code} ${x.attribution}`)).toEqual([
      'hook-failed worker',
      'hook-failed worker',
      'hook-failed worker',
    ]);
    // One attempt allowed, three tries: none used up, and the task waits rather than fails.
    expect(a.state).toBe('pending');
    expect(a.attempts[0]?.reason).toMatch(
      /^the beforeRun hook of repo app failed with exit 4 on local, so the executor did not start \(no attempt used\): see logs\/a\/attempt-1\.log, and fix repos\.app\.hooks\.beforeRun/,
    );
    expect(readFileSync(night.paths.attemptLog('a', 1), 'utf8')).toContain('the-setup-broke');
    // The task waits, and `ls` and the TUI say why (the daemon's published state).
    await waitFor(
      'the wait published',
      () =>
        existsSync(night!.paths.daemonState) &&
        readFileSync(night!.paths.daemonState, 'utf8').includes(
          'hook-failing: the setup hooks of repo app failed 3 times in a row',
        ),
      30_000,
    );
    expect(find(sup, 'a')?.attempts).toHaveLength(3);
  });

  it('a slow afterCreate times out as hook-timeout, killed, with no attempt used', async () => {
    const d = dir();
    night = makeNight({
      providers: PROVIDER,
      extra: FAST,
      repoOptions: `hooks: { afterCreate: { command: [sh, -c, 'echo started >> ${d}/slow; sleep 313; echo finished >> ${d}/slow'], timeout: 2s } }`,
    });
    const sup = night.supervisor();
    await sup.start();
    night.dropSpec('s.md', scriptedSpec('s', 'write a.txt "a\\n"\ncommit "a"', ['attempts: 1']));
    await waitFor('a try ended', () => find(sup, 's')?.attempts.some((x) => x.code), 60_000);
    const s = sup.store.get(tid('s'));
    expect(`${s.attempts[0]?.code} ${s.attempts[0]?.attribution}`).toBe('hook-timeout worker');
    expect(s.attempts[0]?.reason).toContain('the afterCreate hook of repo app timed out after 2s on local');
    expect(readFileSync(night.paths.attemptLog('s', 1), 'utf8')).toContain(
      'hook afterCreate timed out after 2s and was killed',
    );
    expect(lines(path.join(d, 'slow'))).toEqual(['started']);
    // Killed with what it started: its `sleep 313` would outlive the test by minutes.
    await waitFor('the hook killed', () => !running('sleep 313'), 20_000);
  });

  it('restores afterCreate from the cache for the same key: the hook runs once for two tasks', async () => {
    const d = dir();
    const counter = path.join(d, 'installs');
    night = makeNight({
      providers: PROVIDER,
      extra: FAST,
      repoOptions: `hooks: { afterCreate: { command: [sh, -c, 'echo run >> ${counter}; mkdir -p deps; echo v1 > deps/lib.txt'], timeout: 30s, cacheKey: [README.md], cachePaths: [deps] } }`,
    });
    const sup = night.supervisor();
    await sup.start();
    for (const id of ['one', 'two']) {
      night.dropSpec(`${id}.md`, scriptedSpec(id, `sh "cat deps/lib.txt > seen-${id}.txt"\ncommit "${id}"`));
      await waitFor(`${id} done`, () => find(sup, id)?.state === 'done', 90_000);
    }
    expect(lines(counter)).toEqual(['run']);
    expect(readFileSync(night.paths.attemptLog('two', 1), 'utf8')).toContain(
      'hook afterCreate: restored from the cache',
    );
    expect(git(night.repo, 'show', 'main:seen-two.txt')).toBe('v1');
  });

  it('runs afterRun even when the executor fails', async () => {
    const d = dir();
    night = makeNight({
      providers: PROVIDER,
      extra: FAST,
      repoOptions: `hooks: { afterRun: { command: [sh, -c, 'echo "after $NIGHTSHIFT_HOOK" >> ${d}/after; exit 5'], timeout: 30s } }`,
    });
    const sup = night.supervisor();
    await sup.start();
    night.dropSpec('f.md', scriptedSpec('f', 'write a.txt "a\\n"\ncommit "a"\nexit 3', ['attempts: 1']));
    await waitFor('f failed', () => find(sup, 'f')?.state === 'failed', 60_000);
    expect(lines(path.join(d, 'after'))).toEqual(['after afterRun']);
    // A failing afterRun is logged and changes nothing: the failure is the executor's own.
    const f = sup.store.get(tid('f'));
    expect(f.attempts.map((x) => `${x.code} ${x.attribution}`)).toEqual(['attempts-exhausted spec']);
    expect(readFileSync(night.paths.attemptLog('f', 1), 'utf8')).toContain(
      'hook afterRun failed with exit 5',
    );
  });

  it('runs afterRun after the supervisor kills an attempt at its timeout, once its worktree is salvaged', async () => {
    const d = dir();
    night = makeNight({
      providers: PROVIDER,
      extra: FAST,
      repoOptions: `hooks: { afterRun: { command: [sh, -c, 'echo "after $NIGHTSHIFT_HOOK $NIGHTSHIFT_TASK" >> ${d}/after; echo the-after-run-said-so; touch after-run-was-here'], timeout: 30s } }`,
    });
    const sup = night.supervisor();
    await sup.start();
    night.dropSpec(
      'k.md',
      scriptedSpec('k', 'write wip.txt "work in progress\\n"\nprint "working"\nhang', [
        'timeout: 3s',
        'idle: 1h',
        'attempts: 1',
      ]),
    );
    await waitFor('k failed', () => find(sup, 'k')?.state === 'failed', 60_000);
    expect(sup.store.get(tid('k')).attempts[0]?.outcome).toBe('timeout');
    // The runner died with its session: the hook ran on the worker all the same, once, beside the
    // daemon's ticks; what it printed reaches the mirrored log when it is done.
    const log = await waitFor(
      "the hook's output in the log",
      () => {
        const text = readFileSync(night!.paths.attemptLog('k', 1), 'utf8');
        return text.includes('the-after-run-said-so') ? text : null;
      },
      60_000,
    );
    expect(lines(path.join(d, 'after'))).toEqual(['after afterRun k']);
    expect(log).toContain('nightshift: hook afterRun:');
    // Salvaged first: the executor's leftovers are kept, what the hook made is not the attempt's work.
    const mirror = path.join(night.workerDir, 'repos', 'app.git');
    const salvage = 'refs/nightshift/salvage/k/1';
    expect(git(night.repo, '--git-dir', mirror, 'show', `${salvage}:wip.txt`)).toBe('work in progress');
    expect(git(night.repo, '--git-dir', mirror, 'ls-tree', '--name-only', salvage)).not.toContain(
      'after-run-was-here',
    );
  });

  it("a slow afterRun after a kill holds neither the daemon nor its slot's neighbours, and its task waits for it", async () => {
    const d = dir();
    const fifo = path.join(d, 'release');
    execFileSync('mkfifo', [fifo]);
    // The first time it runs, the hook blocks until the test writes to the FIFO (as a long cleanup would).
    writeFileSync(path.join(d, 'block'), '');
    night = makeNight({
      providers: '  sim: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: FAST,
      repoOptions: `hooks: { afterRun: { command: [sh, -c, 'echo "start $NIGHTSHIFT_TASK" >> ${d}/after; if [ -e ${d}/block ]; then rm ${d}/block; cat ${fifo} >/dev/null; fi; echo "end $NIGHTSHIFT_TASK" >> ${d}/after'], timeout: 5m } }`,
    });
    const sup = night.supervisor();
    await sup.start();
    night.dropSpec(
      'k.md',
      scriptedSpec('k', 'print "working"\nhang', ['timeout: 3s', 'idle: 1h', 'attempts: 2']),
    );
    // Every attempt's runner runs afterRun too (other's, below): each line names its task.
    const ofK = () => lines(path.join(d, 'after')).filter((l) => l.endsWith(' k'));
    await waitFor('the hook runs after the kill', () => ofK().includes('start k'), 60_000);
    // While it runs, the daemon dispatches, collects and merges other work.
    night.dropSpec('other.md', scriptedSpec('other', 'write o.txt "o\\n"\ncommit "o"'));
    await waitFor('other merged while the hook runs', () => find(sup, 'other')?.state === 'done', 90_000);
    expect(ofK()).toEqual(['start k']);
    // k waits for its hook: no second attempt in the worktree the hook works in.
    expect(sup.store.get(tid('k')).attempts).toHaveLength(1);
    const released = Date.now();
    writeFileSync(fifo, 'go\n');
    await waitFor('k retried, then failed', () => find(sup, 'k')?.state === 'failed', 90_000);
    const attempts = sup.store.get(tid('k')).attempts;
    expect(attempts).toHaveLength(2);
    expect(Date.parse(attempts[1]!.startedAt)).toBeGreaterThanOrEqual(released - 1000);
    // The second kill's hook runs (and does not block) after k has failed.
    await waitFor('the second hook done', () => ofK().length === 4 || null, 60_000);
    expect(ofK()).toEqual(['start k', 'end k', 'start k', 'end k']);
    await sup.stop('test done');
  });

  it('runs beforeGate in the gate checkout before the gates, and parks the task naming it when it fails', async () => {
    const d = dir();
    night = makeNight({
      providers: PROVIDER,
      extra: [
        FAST,
        "gates: { sandbox: none, tests: { enabled: true, command: [sh, -c, 'test -f gate-ready'] } }",
      ].join('\n'),
      repoOptions: `hooks: { beforeGate: { command: [sh, -c, 'pwd >> ${d}/where; test ! -f broken && touch gate-ready'], timeout: 30s } }`,
    });
    const sup = night.supervisor();
    await sup.start();
    night.dropSpec('g.md', scriptedSpec('g', 'write test_it.txt "test_it\\n"\ncommit "g"'));
    await waitFor('g done', () => find(sup, 'g')?.state === 'done', 90_000);
    // In the review's gate checkout, then in the merge queue's staged one: wherever gates run.
    expect(lines(path.join(d, 'where'))).toEqual([
      night.paths.gateCheckout('app', 'g'),
      night.paths.stagingGateCheckout('app'),
    ]);
    expect(readFileSync(night.paths.beforeGateLog('g'), 'utf8')).toContain('hook beforeGate');
    night.dropSpec(
      'h.md',
      scriptedSpec('h', 'write broken "x\\n"\nwrite test_it.txt "test_it\\n"\ncommit "h"'),
    );
    await waitFor('h parked', () => find(sup, 'h')?.parked != null, 90_000);
    const h = sup.store.get(tid('h'));
    expect(h.attempts.map((x) => x.code ?? null)).toEqual([null]);
    expect(h.parked).toBe('judgment-error');
    // The reason, in the task's events (`nightshift show h`), names the repo, the hook and the fix.
    const events = readFileSync(night.paths.events, 'utf8');
    expect(events).toContain(
      'the beforeGate hook of repo app failed with exit 1 in the gate checkout, so no gate ran (the branch is not blamed)',
    );
    expect(events).toContain('fix repos.app.hooks.beforeGate in nightshift.config.yaml');
  });
});
