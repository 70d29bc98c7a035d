import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureSession } from '../../src/client/session.js';
import type { NightshiftEvent } from '../../src/core/events.js';
import { buildHosts } from '../../src/hosts/registry.js';
import { systemClock } from '../../src/lib/clock.js';
import { readOutcome, writeRequest } from '../../src/queue/requests.js';
import { git } from '../../src/testing/git.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';
import { tid } from '../../src/testing/ids.js';

let night: Night | null = null;
afterEach(async () => {
  await night?.cleanup();
  night = null;
});

const FAST = 'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }';

describe('the daemon', () => {
  it('routes around a dead provider, then takes it back within one half-open interval once fixed', async () => {
    const flagDir = path.join(process.env['TMPDIR'] ?? '/tmp', `ns-fix-${process.pid}-${Date.now()}`);
    mkdirSync(flagDir, { recursive: true });
    const flag = path.join(flagDir, 'fixed');
    night = makeNight({
      providers: [
        '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
        // "dead" answers its probe only once the flag file exists.
        `  dead: { kind: command, hosts: [local], concurrency: 2, command: [sh, -c, '[ -f "$0" ] && grep -o "ns-probe-[0-9a-f]*" "$1"', ${JSON.stringify(flag)}, '{{nightshift:prompt-file}}'] }`,
      ].join('\n'),
      extra: FAST,
    });
    const sup = night.supervisor({ probeBackoff: { initialMs: 2000, maxMs: 2000 } });
    const events: NightshiftEvent[] = [];
    sup.events.subscribe((e) => events.push(e));
    await sup.start();
    for (let i = 0; i < 10; i++)
      night.dropSpec(`s${i}.md`, scriptedSpec(`s${i}`, `write f${i}.txt "x${i}\\n"\ncommit "f${i}"\nexit 0`));
    await waitFor(
      '10 tasks judged and merged',
      () => sup.store.list().filter((t) => t.state === 'done').length === 10,
      60_000,
    );
    const tasks = sup.store.list();
    const attempts = tasks.flatMap((t) =>
      t.attempts.map((a) => `${t.id}#${a.n} ${a.provider} ${a.outcome} ${a.reason ?? ''}`),
    );
    expect(attempts.filter((a) => !/ good exited $/.test(a))).toEqual([]);
    expect(attempts).toHaveLength(10);
    expect(events.some((e) => e.type === 'provider.probe' && e.provider === 'dead' && !e.ok)).toBe(true);
    // Fix it: the next half-open probe (≤ 2 s here) closes the breaker.
    writeFileSync(flag, '');
    // A generous deadline, not a bound on the interval: a busy machine delays the probe's own process.
    await waitFor(
      'dead provider recovered',
      () => sup.fleet.health.get('dead')?.breaker === 'closed',
      30_000,
    );
  });

  it('probes a provider at once on a probe request, long before its backoff ends', async () => {
    const flagDir = path.join(process.env['TMPDIR'] ?? '/tmp', `ns-probe-${process.pid}-${Date.now()}`);
    mkdirSync(flagDir, { recursive: true });
    const flag = path.join(flagDir, 'fixed');
    night = makeNight({
      providers: `  dead: { kind: command, hosts: [local], concurrency: 1, command: [sh, -c, '[ -f "$0" ] && grep -o "ns-probe-[0-9a-f]*" "$1"', ${JSON.stringify(flag)}, '{{nightshift:prompt-file}}'] }`,
      extra: FAST,
    });
    // Half-open probes only every 10 minutes: only the request can close the breaker within the test.
    const sup = night.supervisor({ probeBackoff: { initialMs: 600_000, maxMs: 600_000 } });
    await sup.start();
    await waitFor('the first probe to fail', () => sup.fleet.health.get('dead')?.breaker === 'open', 20_000);
    writeFileSync(flag, '');
    const paths = night.paths;
    const name = writeRequest(paths, { kind: 'probe', provider: 'dead' }, systemClock);
    const outcome = await waitFor('the request applied', () => readOutcome(paths, name)?.outcome, 10_000);
    expect(outcome.ok).toBe(true);
    expect(outcome.message).toMatch(/^probing dead now/);
    await waitFor('the breaker closed', () => sup.fleet.health.get('dead')?.breaker === 'closed', 10_000);
    const unknown = writeRequest(paths, { kind: 'probe', provider: 'nobody' }, systemClock);
    const refused = await waitFor(
      'the unknown one refused',
      () => readOutcome(paths, unknown)?.outcome,
      10_000,
    );
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/unknown provider "nobody"/);
  });

  it('kills a hung executor within idle + liveness interval, and never kills a slow one that makes progress', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 4 }',
      extra: FAST,
    });
    const sup = night.supervisor();
    const events: NightshiftEvent[] = [];
    sup.events.subscribe((e) => events.push(e));
    await sup.start();
    const slow = Array.from({ length: 8 }, (_, i) => `print "tick ${i}"\nsleep 1`).join('\n');
    night.dropSpec(
      'hang.md',
      scriptedSpec('hang', 'print "last words before the hang"\nhang', ['idle: 4s', 'attempts: 1']),
    );
    night.dropSpec(
      'slow.md',
      scriptedSpec('slow', `${slow}\nwrite s.txt "s\\n"\ncommit "s"\nexit 0`, ['idle: 6s']),
    );
    await waitFor(
      'hang killed',
      () => sup.store.list().find((t) => t.id === 'hang')?.state === 'failed',
      60_000,
    );
    const hang = sup.store.get(tid('hang'));
    expect(hang.attempts[0]).toMatchObject({ outcome: 'idle', attribution: 'spec' });
    expect(hang.failure?.code).toBe('attempts-exhausted');
    // Killed for its idleness, not before it was idle for 4 s (how soon after is the daemon's tick, a
    // figure for the benches: a wall-clock bound here failed on a busy machine).
    const a = hang.attempts[0]!;
    expect(Date.parse(a.endedAt!) - Date.parse(a.startedAt)).toBeGreaterThanOrEqual(4000);
    // Its last screen was kept beside its log before the kill, and the kill event says where.
    const killing = events.find((e) => e.type === 'task.killing' && e.task === 'hang');
    expect(killing).toMatchObject({ screen: path.join('logs', 'hang', 'attempt-1.screen.txt') });
    expect(killing?.type === 'task.killing' && killing.reason).toMatch(/last screen kept in logs/);
    const screen = readFileSync(path.join(night.root, 'logs', 'hang', 'attempt-1.screen.txt'), 'utf8');
    expect(screen).toContain('last words before the hang');
    await waitFor('slow done', () => ['review', 'done'].includes(sup.store.get(tid('slow')).state), 30_000);
    expect(sup.store.get(tid('slow')).attempts.map((a) => `${a.outcome} ${a.reason ?? ''}`)).toEqual([
      'exited ',
    ]);
  });

  it('fails a task whose executor touches main, and main does not move', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: FAST,
    });
    const sup = night.supervisor();
    const events: NightshiftEvent[] = [];
    sup.events.subscribe((e) => events.push(e));
    await sup.start();
    const main = git(night.repo, 'rev-parse', 'main');
    night.dropSpec('evil.md', scriptedSpec('evil', 'write x.txt "x\\n"\ncommit "x"\npush-main\nexit 0'));
    const failed = (id: string) => sup.store.list().find((t) => t.id === id)?.state === 'failed';
    await waitFor('evil failed', () => failed('evil'), 30_000);
    // Around the guard hook: with hooks switched off, the mirror's main really moves. (After evil: a
    // main moved first would turn evil's push into a non-fast-forward that git refuses before any hook.)
    night.dropSpec(
      'sneaky.md',
      scriptedSpec(
        'sneaky',
        'write y.txt "y\\n"\ncommit "y"\nsh "git -c core.hooksPath=/nonexistent branch -f main HEAD"\nexit 0',
      ),
    );
    await waitFor('sneaky failed', () => failed('sneaky'), 30_000);
    expect(sup.store.get(tid('evil')).failure?.code).toBe('main-touched');
    expect(sup.store.get(tid('sneaky')).failure?.code).toBe('main-touched');
    expect(sup.store.get(tid('sneaky')).attempts[0]?.reason).toMatch(
      /moved refs\/heads\/main in the mirror on local around the guard .*restored to absent/,
    );
    // Moved, then the branch amended: main no longer points into ns/<id>, but the branch's reflog holds it.
    night.dropSpec(
      'amender.md',
      scriptedSpec(
        'amender',
        'write z.txt "z\\n"\ncommit "z"\nsh "git -c core.hooksPath=/nonexistent branch -f main HEAD && git -c user.name=a -c user.email=a@b commit -q --amend -m z2"\nexit 0',
      ),
    );
    await waitFor('amender failed', () => failed('amender'), 30_000);
    expect(sup.store.get(tid('amender')).failure?.code).toBe('main-touched');
    // A commit the branch never held (commit-tree): restored and reported, but not the task's failure.
    night.dropSpec(
      'forger.md',
      scriptedSpec(
        'forger',
        'write w.txt "w\\n"\ncommit "w"\nsh "git -c core.hooksPath=/nonexistent update-ref refs/heads/main $(git commit-tree -m forged HEAD^{tree})"\nexit 0',
      ),
    );
    await waitFor(
      'forger reviewed',
      () => ['review', 'done'].includes(sup.store.list().find((t) => t.id === 'forger')?.state ?? ''),
      30_000,
    );
    const restored = events.filter((e) => e.type === 'main.restored');
    expect(restored.map((e) => e.type === 'main.restored' && [e.task, e.ref, e.old, e.attributed])).toEqual([
      ['sneaky', 'refs/heads/main', null, true],
      ['amender', 'refs/heads/main', null, true],
      ['forger', 'refs/heads/main', null, false],
    ]);
    const forged = restored[2];
    expect(forged?.type === 'main.restored' && forged.new).toMatch(/^[0-9a-f]{40}$/);
    expect(forged?.type === 'main.restored' && forged.reason).toMatch(/task is not blamed.*restored/);
    // main is unchanged: in the supervisor's repo, and the mirror (which never holds main) has none.
    expect(git(night.repo, 'rev-parse', 'main')).toBe(main);
    const mirror = path.join(night.workerDir, 'repos', 'app.git');
    expect(git(night.repo, '--git-dir', mirror, 'for-each-ref', 'refs/heads/main', 'refs/heads/master')).toBe(
      '',
    );
  });

  it('restores a main moved in a mirror once and blames only its mover, not a task launched after the move', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: FAST,
    });
    const sup = night.supervisor();
    const events: NightshiftEvent[] = [];
    sup.events.subscribe((e) => events.push(e));
    await sup.start();
    const flags = path.join(night.root, 'flags');
    mkdirSync(flags);
    const mirror = path.join(night.workerDir, 'repos', 'app.git');
    // '' while the mirror is not there yet (or half made) or has no main.
    const mirrorMain = () => {
      try {
        return git(
          night!.repo,
          '--git-dir',
          mirror,
          'for-each-ref',
          '--format=%(objectname)',
          'refs/heads/main',
        );
      } catch {
        return '';
      }
    };
    // The mover moves the mirror's main around the guard, then waits until the second task has launched.
    night.dropSpec(
      'mover.md',
      scriptedSpec(
        'mover',
        `write m.txt "m\\n"\ncommit "m"\nsh "git -c core.hooksPath=/nonexistent branch -f main HEAD"\nsh "while [ ! -e ${flags}/one ]; do sleep 0.1; done"\nexit 0`,
      ),
    );
    const moved = await waitFor('main moved in the mirror', () => mirrorMain() || null, 30_000);
    // The second task launches while main is moved (its launch record holds the moved main), and ends
    // only after the mover has been collected.
    night.dropSpec(
      'second.md',
      scriptedSpec(
        'second',
        `sh "while [ ! -e ${flags}/two ]; do sleep 0.1; done"\nwrite s.txt "s\\n"\ncommit "s"\nexit 0`,
      ),
    );
    const record = path.join(night.workerDir, 'tasks', 'second', 'main-refs-1');
    await waitFor('second launched', () => existsSync(record), 30_000);
    expect(readFileSync(record, 'utf8')).toContain(moved);
    writeFileSync(path.join(flags, 'one'), '');
    await waitFor('mover failed', () => sup.store.get(tid('mover')).state === 'failed', 30_000);
    expect(sup.store.get(tid('mover')).failure?.code).toBe('main-touched');
    expect(mirrorMain()).toBe('');
    writeFileSync(path.join(flags, 'two'), '');
    await waitFor(
      'second reviewed',
      () => ['review', 'done'].includes(sup.store.get(tid('second')).state),
      30_000,
    );
    expect(sup.store.get(tid('second')).failure ?? null).toBeNull();
    // Restored once (by the mover's collection), blamed once; the second's collection left main alone.
    expect(mirrorMain()).toBe('');
    const restored = events.filter((e) => e.type === 'main.restored');
    expect(
      restored.map((e) => e.type === 'main.restored' && [e.task, e.ref, e.old, e.new, e.attributed]),
    ).toEqual([['mover', 'refs/heads/main', null, moved, true]]);
  });

  it('hears an executor exit at once from the runner, not at the next poll', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
      // No liveness check or monitor cycle within the test: they would poll too.
      extra: 'defaults: { livenessEvery: 1h, monitorEvery: 1h }',
    });
    // A poll every 10 minutes: only the runner's exit signal can bring the tasks to review in time.
    const sup = night.supervisor({ pollMs: 600_000 });
    const reviewed = new Set<string>();
    sup.events.subscribe((e) => {
      if (e.type === 'task.transition' && e.to === 'review' && e.task) reviewed.add(e.task);
    });
    await sup.start();
    for (const id of ['quick1', 'quick2', 'quick3'])
      night.dropSpec(`${id}.md`, scriptedSpec(id, `write ${id}.txt "x\\n"\ncommit "${id}"\nexit 0`));
    // The third task starts only once one of the first two is collected: that takes a signal too.
    await waitFor('three exits collected', () => reviewed.size === 3, 20_000);
    expect([...reviewed].sort()).toEqual(['quick1', 'quick2', 'quick3']);
  });

  it('collects an exit whose signal was lost, at the fallback poll', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 1 }',
      // No liveness check or monitor cycle within the test: only the poll may find the exit.
      extra: 'defaults: { livenessEvery: 1h, monitorEvery: 1h }',
    });
    const hosts = buildHosts(night.config, night.paths, { tmuxSocket: night.socket });
    const local = hosts.get('local');
    if (!local) throw new Error('no local host');
    // The runner signals its exit as always, but the daemon never hears it: a signal lost on the way.
    let waits = 0;
    local.waitForExit = () => {
      waits += 1;
      return new Promise(() => undefined);
    };
    const sup = night.supervisor({ hosts, pollMs: 300 });
    await sup.start();
    night.dropSpec('unheard.md', scriptedSpec('unheard', 'write u.txt "u\\n"\ncommit "u"\nexit 0'));
    await waitFor(
      'unheard collected',
      () => {
        const t = sup.store.list().find((x) => x.id === 'unheard');
        return t && ['review', 'done'].includes(t.state) ? t : null;
      },
      30_000,
    );
    expect(waits).toBeGreaterThan(0);
    expect(sup.store.get(tid('unheard')).attempts[0]?.exitCode).toBe(0);
  });

  it('fails an attempt whose runner died without an exit record at once, not at its idle timeout', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: FAST,
    });
    const sup = night.supervisor();
    await sup.start();
    // The executor kills the runner script around it (as an OOM kill would), then keeps running.
    night.dropSpec(
      'orphan.md',
      scriptedSpec(
        'orphan',
        'print "the runner dies next"\nsh "kill -9 $(cat ../../tasks/orphan/runner.pid)"\nsleep 30',
        ['idle: 10m', 'attempts: 1'],
      ),
    );
    const failed = await waitFor(
      'orphan failed',
      () => {
        const t = sup.store.list().find((x) => x.id === 'orphan');
        return t?.state === 'failed' ? t : null;
      },
      20_000,
    );
    expect(failed.attempts[0]?.outcome).toBe('lost');
    expect(failed.attempts[0]?.reason).toMatch(
      /runner in session ns-[0-9a-f]{8}_orphan .* without an exit record; last screen kept in logs\/orphan\/attempt-1\.screen\.txt$/,
    );
    // The dead pane's screen, kept before the session was cleared.
    expect(readFileSync(path.join(night.root, 'logs', 'orphan', 'attempt-1.screen.txt'), 'utf8')).toContain(
      'the runner dies next',
    );
  });

  it('reads an executor that exits at once with 3 on a tmux server the TUI started without our config', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: FAST,
    });
    // Like plain `nightshift`: the TUI's session starts the server on the socket, with the user's config.
    ensureSession(night.socket, 'nightshift', night.root, [{ name: 'tui', argv: ['sleep', '600'] }]);
    const sup = night.supervisor();
    await sup.start();
    night.dropSpec('three.md', scriptedSpec('three', 'exit 3', ['attempts: 1']));
    // Its first attempt ends as a failure with the executor's own exit code, as exit.json recorded it
    // (collection reads the code from there; an exit this quick, with nothing done, counts as a crash on
    // start: the provider's, so the task is tried again, and a retry may already have replaced exit.json).
    const ended = await waitFor(
      'three: attempt 1 ended',
      () => {
        const a = sup.store.list().find((x) => x.id === 'three')?.attempts[0];
        return a && a.outcome !== 'running' && a.outcome !== 'collecting' ? a : null;
      },
      20_000,
    );
    expect(`${ended.outcome} ${ended.exitCode}`).toBe('failed 3');
    expect(ended.reason).toMatch(/exited 3/);
  });

  it('salvages the worktree of an attempt whose session vanished without an exit record', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: FAST,
    });
    const sup = night.supervisor();
    await sup.start();
    // The executor leaves work uncommitted, then its whole session goes (runner and pane with it).
    night.dropSpec(
      'vanish.md',
      scriptedSpec(
        'vanish',
        `write wip.txt "work in progress\\n"\nsh "tmux -S ${night.executorSocket} kill-session -t =${night.session('vanish')}"\nsleep 30`,
        ['idle: 10m', 'attempts: 1'],
      ),
    );
    const failed = await waitFor(
      'vanish failed',
      () => {
        const t = sup.store.list().find((x) => x.id === 'vanish');
        return t?.state === 'failed' ? t : null;
      },
      20_000,
    );
    expect(failed.attempts[0]?.reason).toMatch(/session ns-[0-9a-f]{8}_vanish vanished/);
    const mirror = path.join(night.workerDir, 'repos', 'app.git');
    expect(git(night.repo, '--git-dir', mirror, 'show', 'refs/nightshift/salvage/vanish/1:wip.txt')).toBe(
      'work in progress',
    );
  });

  it('mirrors a log whose secret and UTF-8 character arrive split across polls: redacted, byte for byte', async () => {
    const secret = 'sk-split-0123456789abcdefghijkl';
    const dir = path.join(process.env['TMPDIR'] ?? '/tmp', `ns-split-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    // The executor prints the secret's first half, waits for the test's flag, prints the rest and the first
    // byte of "é", waits again, then its second byte: each wait ends only once the supervisor has read
    // everything before it, so the secret and the character straddle two reads.
    const script = path.join(dir, 'executor.sh');
    writeFileSync(
      script,
      [
        'if grep -q ns-probe- "$2"; then grep -o "ns-probe-[0-9a-f]*" "$2"; exit 0; fi',
        'TOKEN=$(cat "$1/token")',
        `printf 'before %s' "$(printf %s "$TOKEN" | cut -c1-14)"`,
        'while [ ! -f "$1/one" ]; do sleep 0.05; done',
        `printf '%s caf\\303' "$(printf %s "$TOKEN" | cut -c15-)"`,
        'while [ ! -f "$1/two" ]; do sleep 0.05; done',
        `printf '\\251 done\\n'`,
        '',
      ].join('\n'),
    );
    night = makeNight({
      // The secret is another provider's: the supervisor redacts it, but this executor was not given it,
      // so its runner has nothing to filter and the raw bytes reach the host's log (the case this tests).
      providers: [
        `  split: { kind: command, hosts: [local], concurrency: 1, command: [sh, ${JSON.stringify(script)}, ${JSON.stringify(dir)}, '{{nightshift:prompt-file}}'] }`,
        '  keyed: { kind: command, hosts: [local], concurrency: 1, secretEnv: { KEY: NS_SPLIT_TOKEN }, command: [sh, -c, "exit 1"] }',
      ].join('\n'),
      extra: FAST,
    });
    writeFileSync(path.join(dir, 'token'), secret);
    const sup = night.supervisor({ env: { ...process.env, NS_SPLIT_TOKEN: secret } });
    await sup.start();
    night.dropSpec('split.md', scriptedSpec('split', 'exit 0', ['attempts: 1', 'provider: split']));
    const log = path.join(night.root, 'logs', 'split', 'attempt-1.log');
    const mirrored = () => {
      try {
        return readFileSync(log);
      } catch {
        return Buffer.alloc(0);
      }
    };
    const first = Buffer.from(`before ${secret.slice(0, 14)}`);
    const second = Buffer.concat([Buffer.from(`${secret.slice(14)} caf`), Buffer.from([0xc3])]);
    const read = (bytes: number) => () => sup.attempts.get(tid('split'))?.live?.mirroredBytes === bytes;
    await waitFor('the first half read', read(first.length), 20_000);
    expect(mirrored().toString('latin1')).not.toContain(secret.slice(0, 8));
    writeFileSync(path.join(dir, 'one'), '');
    await waitFor('the second half read', read(first.length + second.length), 20_000);
    writeFileSync(path.join(dir, 'two'), '');
    await waitFor(
      'the attempt collected',
      () => {
        const a = sup.store.list().find((t) => t.id === 'split')?.attempts[0];
        return a && a.outcome !== 'running' && a.outcome !== 'collecting' ? a : null;
      },
      20_000,
    );
    expect(mirrored().toString('hex')).toBe(Buffer.from('before [redacted] café done\n').toString('hex'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('adopts a running attempt and mirrors on from where the last daemon stopped: no byte twice', async () => {
    const secret = 'sk-adopt-0123456789abcdefghijkl';
    const dir = path.join(process.env['TMPDIR'] ?? '/tmp', `ns-adopt-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    const script = path.join(dir, 'executor.sh');
    writeFileSync(
      script,
      [
        'if grep -q ns-probe- "$2"; then grep -o "ns-probe-[0-9a-f]*" "$2"; exit 0; fi',
        'TOKEN=$(cat "$1/token")',
        `printf 'before %s middle ${'x'.repeat(40)}\\n' "$TOKEN"`,
        'while [ ! -f "$1/go" ]; do sleep 0.05; done',
        `printf 'after\\n'`,
        '',
      ].join('\n'),
    );
    night = makeNight({
      // As above: the secret is another provider's, so only the supervisor's redaction meets it.
      providers: [
        `  adopt: { kind: command, hosts: [local], concurrency: 1, command: [sh, ${JSON.stringify(script)}, ${JSON.stringify(dir)}, '{{nightshift:prompt-file}}'] }`,
        '  keyed: { kind: command, hosts: [local], concurrency: 1, secretEnv: { KEY: NS_ADOPT_TOKEN }, command: [sh, -c, "exit 1"] }',
      ].join('\n'),
      extra: FAST,
    });
    writeFileSync(path.join(dir, 'token'), secret);
    const env = { ...process.env, NS_ADOPT_TOKEN: secret };
    const first = night.supervisor({ env });
    await first.start();
    night.dropSpec('adopt.md', scriptedSpec('adopt', 'exit 0', ['attempts: 1', 'provider: adopt']));
    const printed = Buffer.byteLength(`before ${secret} middle ${'x'.repeat(40)}\n`);
    const log = path.join(night.root, 'logs', 'adopt', 'attempt-1.log');
    // The secret is written (redacted, shorter than it was); the line's end is still held back.
    await waitFor(
      'the first line read',
      () => first.attempts.get(tid('adopt'))?.live?.mirroredBytes === printed,
      20_000,
    );
    expect(readFileSync(log, 'utf8')).toMatch(/^before \[redacted\] middle x{10,39}$/);
    await first.stop('restart');
    const second = night.supervisor({ env });
    const events: NightshiftEvent[] = [];
    second.events.subscribe((e) => events.push(e));
    await second.start();
    expect(events.some((e) => e.type === 'task.adopted' && e.task === 'adopt')).toBe(true);
    writeFileSync(path.join(dir, 'go'), '');
    await waitFor(
      'the attempt collected',
      () => {
        const a = second.store.list().find((t) => t.id === 'adopt')?.attempts[0];
        return a && a.outcome !== 'running' && a.outcome !== 'collecting' ? a : null;
      },
      20_000,
    );
    expect(readFileSync(log, 'utf8')).toBe(`before [redacted] middle ${'x'.repeat(40)}\nafter\n`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second daemon on the same workspace and changes nothing', async () => {
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: FAST,
    });
    const first = night.supervisor();
    await first.start();
    const second = night.supervisor();
    await expect(second.start()).rejects.toThrow(/locked by daemon pid/);
  });
});
