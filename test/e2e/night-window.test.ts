/**
 * The night window and its notices on compressed time (issue 16, items 4 and 6): a clock whose wall time
 * the test moves across the window's boundaries, a real supervisor, tmux and git, and loopback HTTP
 * servers standing in for the notifiers (one of which never answers).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeMorningReport } from '../../src/client/report/write.js';
import type { Clock } from '../../src/lib/clock.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { startNotifyServer, type NotifyServer } from '../../src/testing/notify-server.js';
import { tid } from '../../src/testing/ids.js';
import { waitFor } from '../../src/testing/wait.js';
import { runCli } from '../../src/testing/workspace.js';
import { readDaemonState } from '../../src/daemon/state-file.js';

/** Real time passing from `start`, plus whatever the test jumps. */
class ShiftClock implements Clock {
  private offset: number;
  constructor(start: number) {
    this.offset = start - Date.now();
  }
  now(): number {
    return Date.now() + this.offset;
  }
  monotonic(): number {
    return performance.now();
  }
  jumpTo(wall: number): void {
    this.offset = wall - Date.now();
  }
}

const WINDOW = 'window: { start: "22:00", stopStarting: "06:00", end: "07:00", timeZone: UTC }';
const NOTIFY = [
  'notify:',
  '  - { kind: webhook, urlEnv: NS_TEST_HOOK_URL }',
  '  - { kind: slack, urlEnv: NS_TEST_HANG_URL, timeout: 10m }',
].join('\n');
const TOKEN = 'hooktoken-5b2f9c1e7a';
const at = (h: number, m: number, s = 0) => Date.UTC(2026, 0, 2, h, m, s);

let night: Night | null = null;
const servers: NotifyServer[] = [];
afterEach(async () => {
  await night?.cleanup();
  night = null;
  for (const s of servers.splice(0)) await s.close();
});

describe('the night window', () => {
  it('starts nothing after stopStarting, parks running work window-ended at end, writes the report and notifies', async () => {
    const hook = await startNotifyServer();
    const hang = await startNotifyServer(() => 'hang');
    servers.push(hook, hang);
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 2 }',
      extra: ['defaults: { livenessEvery: 1s, monitorEvery: 1h, idle: 1h }', WINDOW, NOTIFY].join('\n'),
    });
    const clock = new ShiftClock(at(5, 59));
    const lines: string[] = [];
    const n = night;
    const sup = night.supervisor({
      clock,
      env: {
        ...process.env,
        NS_TEST_HOOK_URL: `${hook.url}/hooks/${TOKEN}`,
        NS_TEST_HANG_URL: `${hang.url}/services/${TOKEN}`,
      },
      log: (l) => lines.push(l),
      report: () =>
        writeMorningReport({
          paths: n.paths,
          config: n.config,
          env: process.env,
          tasks: sup.store.list(),
          since: clock.now() - 9 * 3_600_000,
          until: clock.now(),
        }),
    });
    const ended = sup.untilWindowEnd();
    await sup.start();
    const ticking = Array.from({ length: 300 }, (_, i) => `print "tick ${i}"\nsleep 1`).join('\n');
    night.dropSpec('long.md', scriptedSpec('long', `${ticking}\nexit 0`, ['attempts: 1']));
    await waitFor(
      'long running',
      () => sup.store.list().find((t) => t.id === 'long')?.state === 'running',
      60_000,
    );
    expect(readDaemonState(night.paths)?.window).toBe('window open: starting new work until 06:00');

    // 06:00:30: the window closes to new work; a spec dropped now is queued but never launched.
    clock.jumpTo(at(6, 0, 30));
    night.dropSpec('late.md', scriptedSpec('late', 'print "hi"\nexit 0'));
    await waitFor(
      'late waits for the window',
      () => readDaemonState(n.paths)?.waiting['late']?.startsWith('window: nothing new starts after 06:00'),
      60_000,
    );
    expect(readDaemonState(night.paths)?.window).toContain('finishing running work until 07:00');
    expect(sup.store.get(tid('long')).state).toBe('running');

    // 07:00:30: the end. The long attempt is salvaged and parked; the report is written; notices go.
    clock.jumpTo(at(7, 0, 30));
    await ended;
    const long = sup.store.get(tid('long'));
    expect(long.state).toBe('pending');
    expect(long.parked).toBe('window-ended');
    expect(long.attempts).toHaveLength(1);
    expect(long.attempts[0]).toMatchObject({ outcome: 'killed', code: null, attribution: null });
    const late = sup.store.get(tid('late'));
    expect(late.state).toBe('pending');
    expect(late.attempts).toEqual([]);

    const reports = readdirSync(night.paths.reports).filter((f) => f.endsWith('.md'));
    expect(reports).toHaveLength(1);
    const reportFile = path.join(night.paths.reports, reports[0]!);
    const kinds = () => hook.requests.map((r) => (JSON.parse(r.body) as { kind: string }).kind);
    await waitFor('the window and report notices', () => kinds().includes('report'), 30_000);
    expect(kinds()).toEqual(expect.arrayContaining(['window-ended', 'report']));
    const report = hook.requests
      .map((r) => JSON.parse(r.body) as Record<string, string>)
      .find((b) => b['kind'] === 'report');
    expect(report?.['link']).toBe(reportFile);
    expect(report?.['text']).toMatch(/merged, .* of 2 task\(s\)/);
    // The notifier that never answers held up none of this: its request is still open.
    expect(hang.requests.length).toBeGreaterThanOrEqual(1);

    await sup.stop('test');
    // The token in the notifiers' URLs is nowhere on disk or in the log.
    const events = readFileSync(night.paths.events, 'utf8');
    expect(events).toContain('"window.ended"');
    for (const text of [events, lines.join('\n'), readFileSync(reportFile, 'utf8')])
      expect(text).not.toContain(TOKEN);
  }, 180_000);

  it('`daemon --until-window-end` exits 0 at the end, having written the report', async () => {
    const hook = await startNotifyServer();
    servers.push(hook);
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local], concurrency: 1 }',
      extra: [WINDOW, 'notify: [{ kind: webhook, urlEnv: NS_TEST_HOOK_URL }]'].join('\n'),
    });
    // Half an hour before the end; once the daemon runs (its state says so), the clock jumps past the end.
    const clock = new ShiftClock(at(6, 30));
    const running = runCli(['-w', night.root, 'daemon', '--until-window-end'], {
      cwd: night.root,
      clock,
      env: { ...process.env, NS_TEST_HOOK_URL: hook.url, NIGHTSHIFT_TMUX_SOCKET: night.socket },
    });
    const n = night;
    // Running, and its provider probed (a probe in flight at the exit would write on during cleanup).
    await waitFor(
      'the daemon running',
      () => {
        const state = readDaemonState(n.paths);
        return state?.window?.startsWith('window closing') && state.providers[0]?.lastProbe;
      },
      60_000,
    );
    clock.jumpTo(at(7, 0, 30));
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('stopped (--until-window-end: the night window ended)');
    expect(readdirSync(night.paths.reports).some((f) => f.startsWith('report-'))).toBe(true);
    // The report's notice was sent before the exit (stop flushes the queue).
    expect(hook.requests.map((r) => (JSON.parse(r.body) as { kind: string }).kind)).toEqual(
      expect.arrayContaining(['window-ended', 'report']),
    );
    expect(existsSync(night.paths.daemonLog)).toBe(true);
  }, 120_000);

  it('refuses --until-window-end without a window', async () => {
    night = makeNight({ providers: '  good: { kind: scripted, hosts: [local] }' });
    const result = await runCli(['-w', night.root, 'daemon', '--until-window-end'], { cwd: night.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--until-window-end: .*has no `window`/);
  });
});

describe('notifications from a running daemon', () => {
  it('a breaker opening is notified once; the daemon stopping on its own notifies before it exits', async () => {
    const hook = await startNotifyServer();
    servers.push(hook);
    night = makeNight({
      providers: '  bad: { kind: scripted, hosts: [local], scripted: { probe: fail } }',
      extra: ['defaults: { monitorEvery: 1h }', 'notify: [{ kind: slack, urlEnv: NS_TEST_HOOK_URL }]'].join(
        '\n',
      ),
    });
    let exitedWith: { code: number; texts: string[] } | null = null;
    const texts = () => hook.requests.map((r) => (JSON.parse(r.body) as { text: string }).text);
    const sup = night.supervisor({
      env: { ...process.env, NS_TEST_HOOK_URL: `${hook.url}/services/${TOKEN}` },
      // What the server had received when the daemon let the process exit.
      exit: (code) => (exitedWith = { code, texts: texts() }),
    });
    await sup.start();
    await waitFor(
      'the breaker notice',
      () => texts().find((t) => t.includes('provider bad is paused')),
      60_000,
    );
    // The workspace deleted under the daemon: it stops on its own (exit 1), and says so first.
    rmSync(night.paths.queue, { recursive: true, force: true });
    sup.wake();
    const done = await waitFor('the daemon exited', () => exitedWith, 60_000);
    expect(done.code).toBe(1);
    expect(done.texts.filter((t) => t.includes('the daemon stopped on its own'))).toHaveLength(1);
    expect(done.texts.find((t) => t.includes('the daemon stopped on its own'))).toContain('queue');
    expect(texts().filter((t) => t.includes('provider bad is paused'))).toHaveLength(1);
  }, 120_000);
});

describe('a task parked for a person', () => {
  it('is one notice, with its id, reason and what to do', async () => {
    const hook = await startNotifyServer();
    servers.push(hook);
    night = makeNight({
      providers: '  good: { kind: scripted, hosts: [local] }',
      extra: [
        'architect: { mode: manual }',
        'defaults: { livenessEvery: 1s, monitorEvery: 1h }',
        'notify: [{ kind: webhook, urlEnv: NS_TEST_HOOK_URL, events: [parked] }]',
      ].join('\n'),
    });
    const sup = night.supervisor({ env: { ...process.env, NS_TEST_HOOK_URL: hook.url } });
    await sup.start();
    night.dropSpec(
      'p1.md',
      scriptedSpec('p1', 'write "test_it.txt" "def test_it(): pass"\ncommit "work"\nexit 0', [
        'reviewRounds: 0',
      ]),
    );
    const parked = await waitFor(
      'p1 parked',
      () => sup.store.list().find((t) => t.id === 'p1')?.parked,
      90_000,
    );
    await waitFor('the notice', () => hook.requests[0], 30_000);
    const body = JSON.parse(hook.requests[0]!.body) as Record<string, string>;
    expect(body['kind']).toBe('parked');
    expect(body['title']).toBe(`nightshift: p1 waits for you (${parked})`);
    expect(body['text']).toContain('nightshift show p1');
    expect(hook.requests).toHaveLength(1);
  }, 150_000);
});
