import { afterEach, describe, expect, it } from 'vitest';
import type { NightshiftEvent } from '../../src/core/events.js';
import { tid } from '../../src/testing/ids.js';
import { newTask, updateTask, type TaskRecord } from '../../src/core/task.js';
import { initialHealth, type ProviderHealth } from '../../src/daemon/health.js';
import { breakerNotice, EventNotices, parkNotice } from '../../src/daemon/notices.js';
import type { Notice } from '../../src/daemon/notify.js';
import { taskSpec } from '../../src/testing/fixtures.js';
import { startNotifyServer, type NotifyServer } from '../../src/testing/notify-server.js';
import { makeWorkspace, runCli, TEST_CONFIG, type TestWorkspace } from '../../src/testing/workspace.js';

const task = (parked: TaskRecord['parked']): TaskRecord => {
  const t = newTask({
    id: tid('t1'),
    dedupKey: 'k',
    spec: taskSpec({ title: 'Fix the thing' }),
    now: 0,
  }).task;
  return updateTask(t, 1000, 'review rounds used up', { parked }).task;
};
const health = (breaker: ProviderHealth['breaker']): ProviderHealth => ({
  ...initialHealth('p', 2, 0),
  breaker,
  reason: 'a whole cohort failed: HTTP 529',
});

describe('which moments are notices', () => {
  it('a breaker that has just opened, not one that stays open or closes', () => {
    expect(breakerNotice('p', 'closed', health('open'))?.kind).toBe('breaker-open');
    expect(breakerNotice('p', 'unprobed', health('open'))?.text).toContain('HTTP 529');
    expect(breakerNotice('p', 'open', health('open'))).toBeNull();
    expect(breakerNotice('p', 'open', health('closed'))).toBeNull();
    expect(breakerNotice('p', 'closed', health('probing'))).toBeNull();
  });

  it('a park a person must act on, once; not the parks that resume by themselves', () => {
    expect(parkNotice(task('needs-human'), null)?.title).toBe('nightshift: t1 waits for you (needs-human)');
    expect(parkNotice(task('awaiting-approval'), null)?.kind).toBe('parked');
    expect(parkNotice(task('needs-human'), 'needs-human')).toBeNull();
    for (const free of ['architect-unavailable', 'checkout-dirty', 'window-ended'] as const)
      expect(parkNotice(task(free), null)).toBeNull();
    expect(parkNotice(task(null), 'needs-human')).toBeNull();
  });

  it('follows events: each change notifies once, and what was so at start-up is not news', () => {
    const sent: Notice[] = [];
    let record = task('diverged');
    let h = health('closed');
    const notices = new EventNotices({ send: (n) => sent.push(n), task: () => record, health: () => h });
    notices.seed([record], [h]);
    const ev = (type: 'task.updated'): NightshiftEvent => ({ type, time: '', task: 't1', reason: '' });
    notices.onEvent(ev('task.updated'));
    expect(sent).toEqual([]);
    record = task('needs-human');
    notices.onEvent(ev('task.updated'));
    notices.onEvent(ev('task.updated'));
    h = health('open');
    const probe: NightshiftEvent = {
      type: 'provider.probe',
      time: '',
      provider: 'p',
      host: 'h',
      ok: false,
      reason: '',
    };
    notices.onEvent(probe);
    notices.onEvent(probe);
    expect(sent.map((n) => n.kind)).toEqual(['parked', 'breaker-open']);
  });
});

describe('nightshift notify test', () => {
  let ws: TestWorkspace | null = null;
  let server: NotifyServer | null = null;
  afterEach(async () => {
    ws?.cleanup();
    await server?.close();
  });

  it('sends one test notice to each notifier and says ok or why not, naming no URL', async () => {
    server = await startNotifyServer((_, req) => (req.url.startsWith('/bad') ? 404 : 200));
    ws = makeWorkspace(
      `${TEST_CONFIG}notify:\n  - { kind: webhook, urlEnv: GOOD_URL }\n  - { kind: slack, urlEnv: BAD_URL }\n  - { kind: ntfy, urlEnv: UNSET_URL }\n`,
    );
    const env = { GOOD_URL: `${server.url}/good-tok123456`, BAD_URL: `${server.url}/bad-tok654321` };
    const r = await runCli(['-w', ws.root, 'notify', 'test'], { cwd: ws.root, env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ok    notify[0] (webhook, GOOD_URL): ok');
    expect(r.stdout).toContain('FAIL  notify[1] (slack, BAD_URL): HTTP 404');
    expect(r.stdout).toContain(
      'FAIL  notify[2] (ntfy, UNSET_URL): the environment variable UNSET_URL is not set',
    );
    expect(r.stdout + r.stderr).not.toMatch(/tok123456|tok654321/);
    expect(server.requests.map((q) => q.url).sort()).toEqual(['/bad-tok654321', '/good-tok123456']);
    expect(
      (JSON.parse(server.requests.find((q) => q.url.startsWith('/good'))!.body) as { kind: string }).kind,
    ).toBe('test');
  });

  it('says so when nothing is configured', async () => {
    ws = makeWorkspace();
    const r = await runCli(['-w', ws.root, 'notify', 'test'], { cwd: ws.root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no notifiers configured');
  });
});
