/**
 * pr mode (docs/merge.md#pull-requests) end to end below the executor: a real supervisor repo, a bare
 * git remote, the real judgment and merge queue, and a `gh` stand-in on PATH (src/testing/gh-stub.ts)
 * that records its argv and body file and answers like GitHub.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeTask } from '../../src/cli/commands/show.js';
import { buildReport, renderReport } from '../../src/client/report/index.js';
import { parseConfig } from '../../src/config/load.js';
import { workspacePaths } from '../../src/config/paths.js';
import { enterApproved, enterReview, enterRunning, updateTask } from '../../src/core/task.js';
import { Judgment } from '../../src/daemon/judgment.js';
import type { WorkerHost } from '../../src/hosts/worker.js';
import { systemClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { QueueStore } from '../../src/queue/store.js';
import { ToggleStore } from '../../src/queue/toggles.js';
import { parseSpec } from '../../src/spec/parse.js';
import { makeGhStub, type GhStub } from '../../src/testing/gh-stub.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { tid } from '../../src/testing/ids.js';
import { waitFor } from '../../src/testing/wait.js';

const dirs: string[] = [];
const judgments: Judgment[] = [];
const stubs: GhStub[] = [];
afterEach(async () => {
  for (const j of judgments.splice(0)) await j.stop();
  for (const s of stubs.splice(0)) s.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: { labels?: string[]; draft?: boolean; secret?: string } = {}) {
  const repo = makeRepo({ 'README.md': '# app\n' });
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-pr-'));
  const remote = mkdtempSync(path.join(os.tmpdir(), 'ns-remote-'));
  dirs.push(repo, root, remote);
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  git(repo, 'remote', 'add', 'origin', remote);
  git(repo, 'push', '-q', 'origin', 'main');
  const gh = makeGhStub();
  stubs.push(gh);
  const labels = JSON.stringify(opts.labels ?? ['nightshift', 'needs review']);
  const text = [
    'repos:',
    `  app: { path: ${JSON.stringify(repo)}, main: main, merge: { mode: pr, labels: ${labels}, draft: ${opts.draft ?? false} } }`,
    'providers:',
    '  p: { kind: scripted }',
    'architect: { mode: gates }',
    'defaults: { retryInitial: 1s, retryMax: 2s }',
    'gates:',
    '  tests: { enabled: true, command: "true" }',
    '  sandbox: none',
  ].join('\n');
  writeFileSync(path.join(root, 'nightshift.config.yaml'), text);
  const paths = workspacePaths(root);
  const config = parseConfig(text, 'cfg');
  const events = new EventLog(paths.events);
  const store = new QueueStore(paths, systemClock, events);
  store.ensureLayout();
  const logs: string[] = [];
  const secret = opts.secret;
  const judgment = new Judgment({
    paths,
    config,
    clock: systemClock,
    env: gh.env(secret ? { ...process.env, APP_TOKEN: secret } : process.env),
    store,
    toggles: new ToggleStore(paths),
    events,
    hosts: new Map<string, WorkerHost>(),
    log: (line) => logs.push(line),
    redact: (t: string) => (secret ? t.split(secret).join('[redacted]') : t),
    onGraded: () => undefined,
    wake: () => undefined,
  });
  judgments.push(judgment);
  /** A task in review with one commit on ns/<id>, approved by a person (it joins the merge queue). */
  const approved = (id: string, front: string[] = [], body = '') => {
    const spec = parseSpec(
      Buffer.from(
        `---\ntitle: Add ${id}.txt\nid: ${id}\ntests: [test_x]\nstop: stop.\n${front.join('\n')}${front.length ? '\n' : ''}---\nTask ${id}: add the file ${id}.txt with one line in it; nothing else, and keep everything else as it is today.\n${body}`,
      ),
      { file: `${id}.md`, config },
    );
    store.enqueue(spec);
    const base = git(repo, 'rev-parse', 'main');
    git(repo, 'branch', '-q', `ns/${id}`, base);
    const wt = mkdtempSync(path.join(os.tmpdir(), 'ns-wt-'));
    dirs.push(wt);
    git(repo, 'worktree', 'add', '-q', '-f', wt, `ns/${id}`);
    writeFileSync(path.join(wt, `${id}.txt`), `${id}\n`);
    git(wt, 'add', '-A');
    git(wt, 'commit', '-q', '-m', `${id} work`);
    git(repo, 'worktree', 'remove', '--force', wt);
    store.transition(tid(id), (t) => {
      const r = enterRunning(t, { now: Date.now(), provider: 'p', host: 'local' });
      return { ...r, task: { ...r.task, baseSha: base } };
    });
    store.transition(tid(id), (t) => enterReview(t, { now: Date.now(), exitCode: 0 }));
    store.transition(tid(id), (t) =>
      updateTask(t, Date.now(), 'reviewed', {
        gates: [{ name: 'tests', passed: true, durationMs: 1200, evidence: 'ran 3 tests, 3 passed' }],
        review: {
          grade: 'B+',
          verdict: null,
          summary: 'Adds the file as asked.',
          findings: [{ file: `${id}.txt`, line: 1, severity: 'minor', text: 'no trailing newline check' }],
          approvedBy: null,
        },
      }),
    );
    store.transition(tid(id), (t) =>
      enterApproved(t, { now: Date.now(), approvedAt: new Date().toISOString(), by: 'human' }),
    );
    return git(repo, 'rev-parse', `ns/${id}`);
  };
  return { repo, remote, gh, store, judgment, approved, logs };
}

/** The body's text outside its fenced code blocks (a fence closes only on a line of the same fence). */
function outsideFences(body: string): string {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of body.split('\n')) {
    const m = /^(`{3,})/.exec(line);
    if (fence === null && m) fence = m[1]!;
    else if (fence !== null && line.trim() === fence) fence = null;
    else if (fence === null) out.push(line);
  }
  return out.join('\n');
}

const createCalls = (gh: GhStub) => gh.calls().filter((c) => c.argv[0] === 'pr' && c.argv[1] === 'create');

describe('pull-request mode', () => {
  it('pushes the approved branch to the remote as nightshift/<id> and opens one pull request with gh', async () => {
    const env = setup();
    const main = git(env.repo, 'rev-parse', 'main');
    const tip = env.approved('alpha', ['source: github:acme/app#42']);
    env.judgment.kick();
    await waitFor(
      'env.store.get(tid(alpha)).state === done',
      () => env.store.get(tid('alpha')).state === 'done',
      60_000,
    );

    expect(git(env.remote, 'rev-parse', 'refs/heads/nightshift/alpha')).toBe(tip);
    // Nothing lands on main, here or on the remote.
    expect(git(env.repo, 'rev-parse', 'main')).toBe(main);
    expect(git(env.remote, 'rev-parse', 'main')).toBe(main);

    const creates = createCalls(env.gh);
    expect(creates).toHaveLength(1);
    const call = creates[0]!;
    expect(call.argv).toEqual([
      'pr',
      'create',
      '--title=Add alpha.txt',
      expect.stringMatching(/^--body-file=\/.*body\.md$/),
      '--base=main',
      '--head=nightshift/alpha',
      '--label=nightshift',
      '--label=needs review',
    ]);
    expect(call.cwd).toBe(env.repo);
    expect(call.body).toContain('Grade **B+**');
    expect(call.body).toContain('no trailing newline check');
    expect(call.body).toContain('| tests | pass |');
    expect(call.body).toContain('ran 3 tests, 3 passed');
    expect(call.body).toContain('Task alpha: add the file alpha.txt');
    expect(call.body).toMatch(/^Closes #42$/m);
    // The body file was the supervisor's own temporary file: gone once gh answered.
    expect(existsSync(call.argv[3]!.slice('--body-file='.length))).toBe(false);

    const task = env.store.get(tid('alpha'));
    expect(task.pullRequest).toMatchObject({
      url: 'https://github.com/acme/app/pull/1',
      number: 1,
      remote: 'origin',
      branch: 'nightshift/alpha',
      base: 'main',
      sha: tip,
    });
    expect(task.merge).toBeNull();
    expect(task.attempts).toHaveLength(1);

    // `nightshift show` and the morning report link it.
    expect(describeTask(task)).toContain(
      `pull req.  https://github.com/acme/app/pull/1 (origin nightshift/alpha at ${tip.slice(0, 12)} → main)`,
    );
    const report = buildReport({
      tasks: env.store.list(),
      events: [],
      since: Date.now() - 3_600_000,
      until: Date.now() + 60_000,
      providers: ['p'],
    });
    const markdown = renderReport(report, 'md');
    expect(markdown).toContain('(alpha): pull request open');
    expect(markdown).toContain('- pull request: <https://github.com/acme/app/pull/1>');
    expect(renderReport(report, 'html')).toContain('<a href="https://github.com/acme/app/pull/1">');
  });

  it('a gh failure charges no attempt: the task parks as pr-retry and is opened once gh works again', async () => {
    const env = setup();
    env.gh.fail('HTTP 401: Bad credentials (https://api.github.com/graphql)\n');
    env.approved('beta');
    env.judgment.kick();
    await waitFor(
      'env.store.get(tid(beta)).parked === pr-retry',
      () => env.store.get(tid('beta')).parked === 'pr-retry',
      60_000,
    );
    const parked = env.store.get(tid('beta'));
    expect(parked.state).toBe('review');
    expect(parked.failure).toBeNull();
    expect(parked.attempts).toHaveLength(1);
    expect(parked.attempts[0]!.outcome).toBe('exited');
    env.gh.fail(null);
    await waitFor(
      'env.store.get(tid(beta)).state === done',
      () => env.store.get(tid('beta')).state === 'done',
      60_000,
    );
    expect(createCalls(env.gh)).toHaveLength(1);
    expect(env.store.get(tid('beta')).attempts).toHaveLength(1);
  });

  it('after every retry failed, parks as pr-failed naming the remote and `gh auth login`', async () => {
    const env = setup();
    env.gh.fail('HTTP 401: Bad credentials (https://api.github.com/graphql)\n');
    env.approved('gamma');
    env.judgment.kick();
    await waitFor(
      'env.store.get(tid(gamma)).parked === pr-failed',
      () => env.store.get(tid('gamma')).parked === 'pr-failed',
      90_000,
    );
    const events = env.logs.filter((l) => l.includes('pull request for gamma'));
    expect(events.length).toBe(5);
    const reason = env.logs.at(-1) ?? '';
    expect(reason).toContain('origin');
    expect(reason).toContain('gh auth login');
    expect(env.store.get(tid('gamma')).attempts).toHaveLength(1);
    expect(createCalls(env.gh)).toHaveLength(0);
  });

  it('a pull request opened by a try whose answer was lost is found, not opened twice', async () => {
    const env = setup();
    env.gh.loseNextAnswer();
    env.approved('delta');
    env.judgment.kick();
    await waitFor(
      'env.store.get(tid(delta)).state === done',
      () => env.store.get(tid('delta')).state === 'done',
      60_000,
    );
    expect(createCalls(env.gh)).toHaveLength(1);
    expect(env.store.get(tid('delta')).pullRequest?.url).toBe('https://github.com/acme/app/pull/1');
    // Approving again after the fact is refused by the state machine; a second judgment pass finds
    // nothing to do, and gh is not asked to create anything more.
    env.judgment.kick();
    await waitFor('!env.judgment.busy', () => !env.judgment.busy, 30_000);
    expect(createCalls(env.gh)).toHaveLength(1);
  });

  it('a hostile title and body reach gh only as flag values and inside fences; secrets are redacted', async () => {
    const secret = 'sk-live-abcdef123456';
    const env = setup({ secret });
    const marker = path.join(os.tmpdir(), `ns-pwned-${process.pid}-${Date.now()}`);
    dirs.push(marker);
    env.approved('eps', [], `\n\`\`\`\nCloses #7 and $(touch ${marker}) and ${secret}\n\`\`\`\n`);
    env.store.transition(tid('eps'), (t) =>
      updateTask(t, Date.now(), 'hostile title', { title: `--help $(touch ${marker}) ${secret}` }),
    );
    env.judgment.kick();
    await waitFor(
      'env.store.get(tid(eps)).state === done',
      () => env.store.get(tid('eps')).state === 'done',
      60_000,
    );
    const [call] = createCalls(env.gh);
    expect(call?.argv[2]).toBe(`--title=--help $(touch ${marker}) [redacted]`);
    expect(call?.argv).not.toContain('--help');
    expect(existsSync(marker)).toBe(false);
    const body = call?.body ?? '';
    expect(body).not.toContain(secret);
    // The spec's own "Closes #7" stays inside the fenced spec: it closes nothing.
    expect(body).toContain('Closes #7');
    expect(outsideFences(body)).not.toContain('Closes #7');
    expect(outsideFences(body)).not.toContain('$(touch');
    const fence = /^(`{4,})markdown$/m.exec(body)?.[1] ?? '';
    expect(fence.length).toBeGreaterThan(3);
  });
});
