import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { workspacePaths } from '../../src/config/paths.js';
import { enterChanges, enterFailed, enterReview, enterRunning, updateTask } from '../../src/core/task.js';
import { Judgment } from '../../src/daemon/judgment.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import { WorkerHost } from '../../src/hosts/worker.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/queue/eventlog.js';
import { applyPendingRequests, writeRequest } from '../../src/queue/requests.js';
import { QueueStore } from '../../src/queue/store.js';
import { ToggleStore } from '../../src/queue/toggles.js';
import { parseSpec } from '../../src/spec/parse.js';
import { git, makeRepo } from '../../src/testing/git.js';
import { waitFor } from '../../src/testing/wait.js';
import { tid } from '../../src/testing/ids.js';

const dirs: string[] = [];
const judgments: Judgment[] = [];
afterEach(async () => {
  for (const j of judgments.splice(0)) await j.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type MergeMode = 'rebase' | 'merge-commit' | 'squash';

function setup(opts: {
  remote?: boolean;
  testCommand: string;
  merge?: MergeMode;
  architect?: 'gates' | 'manual';
  hosts?: Map<string, WorkerHost>;
}) {
  const repo = makeRepo({ 'README.md': '# app\n', 'test.sh': 'exit 0\n' });
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-mq-'));
  dirs.push(repo, root);
  let remote: string | null = null;
  if (opts.remote) {
    remote = mkdtempSync(path.join(os.tmpdir(), 'ns-remote-'));
    dirs.push(remote);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote]);
    execFileSync('git', ['-C', remote, 'config', 'core.logAllRefUpdates', 'true']);
    git(repo, 'remote', 'add', 'origin', remote);
    git(repo, 'push', '-q', 'origin', 'main');
  }
  const text = [
    'repos:',
    `  app: { path: ${JSON.stringify(repo)}, main: main${remote ? ', remote: origin' : ''}, merge: ${opts.merge ?? 'rebase'} }`,
    'providers:',
    '  p: { kind: scripted }',
    `architect: { mode: ${opts.architect ?? 'gates'} }`,
    'gates:',
    `  tests: { enabled: true, command: ${JSON.stringify(opts.testCommand)} }`,
    '  diff: { enabled: true }',
    '  deletions: { enabled: true }',
    '  commits: { enabled: true, max: 15 }',
    // recordingTests appends to a log outside the gate checkout: bwrap would make that read-only.
    '  sandbox: none',
  ].join('\n');
  writeFileSync(path.join(root, 'nightshift.config.yaml'), text);
  const paths = workspacePaths(root);
  const config = parseConfig(text, 'cfg');
  const events = new EventLog(paths.events);
  const store = new QueueStore(paths, systemClock, events);
  store.ensureLayout();
  const toggles = new ToggleStore(paths);
  const logs: string[] = [];
  const judgment = new Judgment({
    paths,
    config,
    clock: systemClock,
    env: {},
    store,
    toggles,
    events,
    hosts: opts.hosts ?? new Map<string, WorkerHost>(),
    log: (line) => logs.push(line),
    redact: (t: string) => t,
    onGraded: () => undefined,
    wake: () => undefined,
  });
  judgments.push(judgment);
  /**
   * A task in review whose branch makes `commits` (file → content, null deletes), one commit each, as
   * if an executor had run on `hosts` (one attempt per host). By default: one commit adding <id>.txt.
   */
  const reviewed = (
    id: string,
    file = `${id}.txt`,
    more: { commits?: Record<string, string | null>[]; hosts?: string[] } = {},
  ) => {
    const spec = parseSpec(
      Buffer.from(
        `---\ntitle: Add ${file}\nid: ${id}\ntests: [test_x]\nstop: stop.\n---\nTask ${id}: add the file ${file} with one line in it; nothing else, and keep everything else as it is today.\n`,
      ),
      { file: `${id}.md`, config },
    );
    store.enqueue(spec);
    const base = git(repo, 'rev-parse', 'main');
    git(repo, 'branch', '-q', `ns/${id}`, base);
    const wt = mkdtempSync(path.join(os.tmpdir(), 'ns-wt-'));
    dirs.push(wt);
    git(repo, 'worktree', 'add', '-q', '-f', wt, `ns/${id}`);
    const commits = more.commits ?? [{ [file]: `${id}\n` }];
    commits.forEach((change, i) => {
      for (const [name, content] of Object.entries(change)) {
        if (content === null) rmSync(path.join(wt, name));
        else writeFileSync(path.join(wt, name), content);
      }
      git(wt, 'add', '-A');
      git(wt, 'commit', '-q', '-m', `${id} step ${i + 1}`);
    });
    git(repo, 'worktree', 'remove', '--force', wt);
    for (const host of more.hosts ?? ['local']) {
      store.transition(tid(id), (t) => {
        const r = enterRunning(t, { now: Date.now(), provider: 'p', host });
        return { ...r, task: { ...r.task, baseSha: base } };
      });
      store.transition(tid(id), (t) => enterReview(t, { now: Date.now(), exitCode: 0 }));
      if (host !== (more.hosts ?? ['local']).at(-1))
        store.transition(tid(id), (t) => enterChanges(t, { now: Date.now(), reason: 'another round' }));
    }
  };
  return { repo, remote, store, judgment, reviewed, paths, config, toggles, logs };
}

/**
 * A tests command that passes when the shell condition `pass` holds, and appends "<cwd> <tree> pass|fail"
 * to `log`: the runs in the staging gate checkout are the merge queue's, the others the review's.
 */
function recordingTests(log: string, pass = 'true'): string {
  return `if ${pass}; then s=pass; else s=fail; fi; printf '%s %s %s\\n' "$PWD" "$(git rev-parse HEAD^{tree})" $s >> ${log}; [ $s = pass ]`;
}

/** The runs recorded by recordingTests. */
function gateRuns(log: string): { staging: boolean; tree: string; passed: boolean }[] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((row) => {
      const [cwd = '', tree = '', status = ''] = row.split(' ');
      return { staging: cwd.endsWith(`${path.sep}.gate-staging`), tree, passed: status === 'pass' };
    });
}

/** Trees the tests gate passed in the staging worktree. */
function stagedTrees(log: string): Set<string> {
  return new Set(
    gateRuns(log)
      .filter((r) => r.staging && r.passed)
      .map((r) => r.tree),
  );
}

/** main's first-parent line, oldest first, without the initial commit. */
function mainLine(repo: string): string[] {
  return git(repo, 'rev-list', '--first-parent', '--reverse', 'main').split('\n').slice(1);
}

/** A fresh path in the temp dir, removed after the test. */
function tmpPath(prefix: string): string {
  const file = path.join(
    os.tmpdir(),
    `${prefix}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  );
  dirs.push(file);
  return file;
}

const treeOf = (repo: string, sha: string) => git(repo, 'rev-parse', `${sha}^{tree}`);

describe('the merge queue', () => {
  it('merges 50 approvals that race into the queue once each, in approval order, each tree gated in staging', async () => {
    const runs = tmpPath('ns-runs');
    const env = setup({ architect: 'manual', testCommand: recordingTests(runs) });
    const ids = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const id of ids) env.reviewed(id);
    env.judgment.kick();
    await waitFor(
      '50 tasks awaiting approval',
      () => env.store.list().filter((t) => t.parked === 'awaiting-approval').length === 50,
      170_000,
      200,
    );
    // Approvals in an order unrelated to the tasks' creation (17 is coprime with 50), each batch within
    // one millisecond (a clock that stands still): the approval stamps must still keep their order.
    const order = ids.map((_, i) => ids[(i * 17) % 50] ?? '');
    // (Requests are applied in the order of their names, which carry the writer's clock: that one ticks.)
    let tick = Date.now();
    const writer: Clock = { now: () => ++tick, monotonic: () => performance.now() };
    const frozen = Date.now();
    const clock: Clock = { now: () => frozen, monotonic: () => performance.now() };
    const approve = async (batch: string[]) => {
      for (const task of batch) writeRequest(env.paths, { kind: 'approve', task: tid(task) }, writer);
      const applied = await applyPendingRequests({ ...env, clock });
      expect(applied.every((a) => a.outcome.ok)).toBe(true);
      return applied.map((a) => (a.request.kind === 'approve' ? a.request.task : ''));
    };
    const approved = () =>
      env.store.list().filter((t) => t.state === 'review' && t.review?.verdict === 'approve');
    const first = await approve(order.slice(0, 25));
    expect(approved()).toHaveLength(25);
    env.judgment.kick();
    await waitFor('the first merge', () => env.store.list().some((t) => t.state === 'done'), 60_000);
    // The rest arrive while the queue is merging the first batch.
    const second = await approve(order.slice(25));
    env.judgment.kick();
    expect(approved().length).toBeGreaterThan(25);
    await waitFor(
      '50 merged',
      () => env.store.list().filter((t) => t.state === 'done').length === 50,
      170_000,
      200,
    );
    const line = mainLine(env.repo);
    expect(line).toHaveLength(50);
    const taskOf = new Map(env.store.list().map((t) => [t.merge?.sha, t.id]));
    expect(line.map((sha) => taskOf.get(sha))).toEqual([...first, ...second]);
    expect([...first, ...second]).toEqual(order);
    const staged = stagedTrees(runs);
    for (const sha of line) expect(staged.has(treeOf(env.repo, sha))).toBe(true);
    for (const id of ids) expect(git(env.repo, 'show', `main:${id}.txt`)).toBe(id);
  }, 400_000);

  it('rebase: every rebased commit on main passed the gates in staging; a branch with a failing middle lands squashed', async () => {
    const runs = tmpPath('ns-runs');
    const env = setup({ testCommand: recordingTests(runs, 'test ! -e broken.txt') });
    env.reviewed('clean', 'clean.txt', {
      commits: [{ 'clean-1.txt': 'a\n' }, { 'clean-2.txt': 'b\n' }, { 'clean-3.txt': 'c\n' }],
    });
    env.reviewed('middle', 'middle.txt', {
      commits: [
        { 'middle-1.txt': 'a\n' },
        { 'broken.txt': 'x\n' },
        { 'broken.txt': null, 'middle-3.txt': 'c\n' },
      ],
    });
    env.judgment.kick();
    await waitFor('both merged', () => env.store.list().every((t) => t.state === 'done'), 60_000);
    const line = mainLine(env.repo);
    // clean's three commits, then middle as one commit.
    expect(line).toHaveLength(4);
    const staged = stagedTrees(runs);
    for (const sha of line) expect(staged.has(treeOf(env.repo, sha))).toBe(true);
    expect(line.slice(0, 3).map((sha) => git(env.repo, 'log', '-1', '--format=%s', sha))).toEqual([
      'clean step 1',
      'clean step 2',
      'clean step 3',
    ]);
    // The broken tree was run in staging, failed, and is on main nowhere.
    const failedTrees = gateRuns(runs).filter((r) => r.staging && !r.passed);
    expect(failedTrees).toHaveLength(1);
    expect(line.map((sha) => treeOf(env.repo, sha))).not.toContain(failedTrees[0]?.tree);
    const squash = env.store.get(tid('middle')).merge?.sha ?? '';
    expect(line[3]).toBe(squash);
    expect(git(env.repo, 'rev-list', '--parents', '-n', '1', squash).split(' ')).toHaveLength(2);
    const message = git(env.repo, 'log', '-1', '--format=%B', squash);
    expect(message).toMatch(/^Add middle\.txt \(nightshift middle\)/);
    expect(message).toMatch(
      /Squashed by nightshift: the rebased commit \w+ middle step 2 fails tests in staging/,
    );
    for (const step of [1, 2, 3]) expect(message).toMatch(new RegExp(`- \\w+ middle step ${step}`));
    expect(env.logs).toContainEqual(
      expect.stringMatching(
        /^merge of middle: rebased commit \w+ middle step 2 fails tests in staging; landing one squash commit/,
      ),
    );
    expect(readFileSync(env.paths.events, 'utf8')).toMatch(
      /"task":"middle","reason":"merge: rebased commit \w+ middle step 2 fails tests/,
    );
    expect(git(env.repo, 'ls-tree', '--name-only', 'main')).not.toContain('broken.txt');
    expect(git(env.repo, 'show', 'main:middle-3.txt')).toBe('c');
  });

  it.each(['merge-commit', 'squash'] as const)(
    "%s: each commit on main's first-parent line is a tree gated in staging",
    async (merge) => {
      const runs = tmpPath('ns-runs');
      const env = setup({ merge, testCommand: recordingTests(runs) });
      const ids = ['m1', 'm2', 'm3'];
      for (const id of ids)
        env.reviewed(id, `${id}.txt`, { commits: [{ [`${id}-a.txt`]: 'a\n' }, { [`${id}-b.txt`]: 'b\n' }] });
      env.judgment.kick();
      await waitFor('all merged', () => env.store.list().every((t) => t.state === 'done'), 60_000);
      const line = mainLine(env.repo);
      expect(line).toEqual(ids.map((id) => env.store.get(tid(id)).merge?.sha));
      const staged = stagedTrees(runs);
      for (const sha of line) {
        expect(staged.has(treeOf(env.repo, sha))).toBe(true);
        const parents = git(env.repo, 'rev-list', '--parents', '-n', '1', sha).split(' ').length - 1;
        expect(parents).toBe(merge === 'squash' ? 1 : 2);
      }
      // squash: one commit per task and nothing else; merge-commit: the branches' commits beside them.
      expect(Number(git(env.repo, 'rev-list', '--count', 'main'))).toBe(merge === 'squash' ? 4 : 10);
    },
  );

  it('re-stages when the remote moves between the staging gates and the push, and never forces', async () => {
    const flag = tmpPath('ns-flag');
    const sneaked = tmpPath('ns-sneaked');
    const remoteFile = tmpPath('ns-remote-url');
    // The first time the tests gate runs in the staging gate checkout (the merge queue's run, not the
    // review's), someone else pushes to the remote's main. The gate checkout has no remote: the URL
    // comes from a file written once the remote exists.
    const sneak = [
      `case "$PWD" in */.gate-staging) if [ ! -e ${flag} ]; then touch ${flag};`,
      `r=$(cat ${remoteFile}); d=$(mktemp -d); git clone -q "$r" "$d";`,
      'echo other > "$d/other.txt"; git -C "$d" add -A;',
      'git -C "$d" -c user.name=o -c user.email=o@o commit -q -m other; git -C "$d" push -q origin main;',
      `git -C "$d" rev-parse HEAD > ${sneaked}; rm -rf "$d"; fi;; esac`,
    ].join(' ');
    const env = setup({ remote: true, testCommand: sneak });
    const remote = env.remote ?? '';
    writeFileSync(remoteFile, remote);
    env.reviewed('feature');
    env.judgment.kick();
    await waitFor('merged', () => env.store.list().find((t) => t.id === 'feature')?.state === 'done', 60_000);
    expect(env.logs).toContainEqual('merge of feature: push rejected by origin; re-staging from its main');
    const main = git(env.repo, 'rev-parse', 'main');
    expect(git(remote, 'rev-parse', 'main')).toBe(main);
    expect(env.store.get(tid('feature')).merge?.sha).toBe(main);
    // The merge landed on top of the sneaked commit.
    expect(git(env.repo, 'rev-parse', 'main^')).toBe(readFileSync(sneaked, 'utf8').trim());
    expect(git(env.repo, 'show', 'main:other.txt')).toBe('other');
    expect(git(env.repo, 'show', 'main:feature.txt')).toBe('feature');
    // The remote's reflog shows only fast-forwards: each entry's old value is an ancestor of its new one.
    const reflog = readFileSync(path.join(remote, 'logs', 'refs', 'heads', 'main'), 'utf8')
      .trim()
      .split('\n');
    expect(reflog).toHaveLength(3); // the first push, the sneaked one, the merge
    for (const entry of reflog) {
      const [old = '', next = ''] = entry.split(' ');
      if (/^0+$/.test(old)) continue;
      expect(
        execFileSync('git', ['-C', remote, 'merge-base', '--is-ancestor', old, next], {
          stdio: 'pipe',
        }).toString(),
      ).toBe('');
    }
    expect(reflog.at(-1)?.split(' ')[1]).toBe(main);
  });

  it('re-stages, not parks, when its push loses the ref lock to a concurrent update of the remote (cannot lock ref)', async () => {
    const env = setup({ remote: true, testCommand: 'true' });
    const remote = env.remote ?? '';
    // An outside commit on top of main, waiting in the remote under another name.
    const other = mkdtempSync(path.join(os.tmpdir(), 'ns-other-'));
    dirs.push(other);
    execFileSync('git', ['clone', '-q', remote, other]);
    writeFileSync(path.join(other, 'outside.txt'), 'outside\n');
    git(other, 'add', '-A');
    git(other, '-c', 'user.name=o', '-c', 'user.email=o@o', 'commit', '-q', '-m', 'outside');
    git(other, 'push', '-q', 'origin', 'HEAD:refs/heads/outside');
    const outside = git(other, 'rev-parse', 'HEAD');
    // The first push of main: while receive-pack holds the new objects and is about to update the ref,
    // another process moves main to the outside commit. receive-pack's compare-and-swap then fails with
    // "cannot lock ref 'refs/heads/main': is at <outside> but expected <old>", a real concurrent update.
    const hook = path.join(remote, 'hooks', 'update');
    writeFileSync(
      hook,
      [
        '#!/bin/sh',
        'if [ "$1" = refs/heads/main ] && [ ! -e "$GIT_DIR/raced" ]; then',
        '  touch "$GIT_DIR/raced"',
        '  git update-ref refs/heads/main "$(git rev-parse refs/heads/outside)" "$2"',
        'fi',
        'exit 0',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    env.reviewed('locked');
    env.judgment.kick();
    await waitFor(
      'merged or parked',
      () => env.store.get(tid('locked')).state === 'done' || env.store.get(tid('locked')).parked,
      60_000,
    );
    expect(existsSync(path.join(remote, 'raced'))).toBe(true);
    expect(env.store.get(tid('locked')).parked).toBeNull();
    expect(env.store.get(tid('locked')).state).toBe('done');
    expect(env.logs.some((l) => /merge of locked: push lost a race .*re-staging/.test(l))).toBe(true);
    // Landed on top of the outside commit, in both repos.
    const main = git(env.repo, 'rev-parse', 'main');
    expect(git(remote, 'rev-parse', 'main')).toBe(main);
    expect(git(env.repo, 'rev-parse', 'main^')).toBe(outside);
    expect(git(env.repo, 'show', 'main:locked.txt')).toBe('locked');
  });

  it('keeps re-staging past three lost pushes when each was lost to a new outside commit', async () => {
    const env = setup({ remote: true, testCommand: 'true' });
    const remote = env.remote ?? '';
    // Four pushes of main in a row: each time another process puts a new commit on the remote's main
    // while receive-pack is about to update it, so each push fails with "cannot lock ref".
    writeFileSync(
      path.join(remote, 'hooks', 'update'),
      [
        '#!/bin/sh',
        '[ "$1" = refs/heads/main ] || exit 0',
        'n=$(cat "$GIT_DIR/races" 2>/dev/null || echo 0)',
        '[ "$n" -lt 4 ] || exit 0',
        'echo $((n + 1)) > "$GIT_DIR/races"',
        'c=$(git -c user.name=o -c user.email=o@o commit-tree "$2^{tree}" -p "$2" -m "outside $((n + 1))")',
        'git update-ref refs/heads/main "$c" "$2"',
        'exit 0',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    env.reviewed('patient');
    env.judgment.kick();
    await waitFor(
      'merged or parked',
      () => env.store.get(tid('patient')).state === 'done' || env.store.get(tid('patient')).parked,
      120_000,
    );
    expect(readFileSync(path.join(remote, 'races'), 'utf8').trim()).toBe('4');
    expect(env.store.get(tid('patient')).parked).toBeNull();
    expect(env.store.get(tid('patient')).state).toBe('done');
    expect(env.logs.filter((l) => /merge of patient: push lost a race/.test(l))).toHaveLength(4);
    const main = git(env.repo, 'rev-parse', 'main');
    expect(git(remote, 'rev-parse', 'main')).toBe(main);
    expect(git(env.repo, 'log', '-1', '--format=%s', 'main^')).toBe('outside 4');
  });

  it('merges onto a local main that is ahead of its remote, and pushes it: main is never moved back', async () => {
    const env = setup({ remote: true, testCommand: 'true' });
    const remote = env.remote ?? '';
    writeFileSync(path.join(env.repo, 'local.txt'), 'mine\n');
    git(env.repo, 'add', '-A');
    git(env.repo, 'commit', '-q', '-m', 'a local commit, not pushed yet');
    const local = git(env.repo, 'rev-parse', 'main');
    env.reviewed('feature');
    env.judgment.kick();
    await waitFor('merged', () => env.store.get(tid('feature')).state === 'done', 60_000);
    const main = git(env.repo, 'rev-parse', 'main');
    expect(git(env.repo, 'rev-parse', 'main^')).toBe(local);
    expect(git(env.repo, 'show', 'main:local.txt')).toBe('mine');
    expect(git(env.repo, 'show', 'main:feature.txt')).toBe('feature');
    expect(git(remote, 'rev-parse', 'main')).toBe(main);
  });

  it('parks a task when local main and its remote have diverged, and moves neither', async () => {
    const env = setup({ remote: true, testCommand: 'true' });
    const remote = env.remote ?? '';
    const clone = mkdtempSync(path.join(os.tmpdir(), 'ns-clone-'));
    dirs.push(clone);
    git(os.tmpdir(), 'clone', '-q', remote, clone);
    writeFileSync(path.join(clone, 'theirs.txt'), 'theirs\n');
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'pushed by someone else');
    git(clone, 'push', '-q', 'origin', 'main');
    const theirs = git(clone, 'rev-parse', 'HEAD');
    writeFileSync(path.join(env.repo, 'local.txt'), 'mine\n');
    git(env.repo, 'add', '-A');
    git(env.repo, 'commit', '-q', '-m', 'a local commit');
    const local = git(env.repo, 'rev-parse', 'main');
    env.reviewed('feature');
    env.judgment.kick();
    await waitFor('parked', () => env.store.get(tid('feature')).parked, 60_000);
    expect(env.store.get(tid('feature')).parked).toBe('diverged');
    expect(git(env.repo, 'rev-parse', 'main')).toBe(local);
    expect(git(remote, 'rev-parse', 'main')).toBe(theirs);
  });

  it('parks a task whose push the remote declines (a hook), with main put back, and does not re-stage', async () => {
    const env = setup({ remote: true, testCommand: 'true' });
    const remote = env.remote ?? '';
    const before = git(env.repo, 'rev-parse', 'main');
    const hook = path.join(remote, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "main is protected here" >&2\nexit 1\n', { mode: 0o755 });
    env.reviewed('declined');
    env.judgment.kick();
    await waitFor('parked', () => env.store.get(tid('declined')).parked, 60_000);
    const task = env.store.get(tid('declined'));
    expect(task.parked).toBe('push-failed');
    expect(task.state).toBe('review');
    expect(readFileSync(env.paths.events, 'utf8')).toMatch(
      /"task":"declined","reason":"push to origin failed: [^"]*remote rejected/,
    );
    expect(env.logs.filter((l) => /re-staging/.test(l))).toEqual([]);
    expect(git(env.repo, 'rev-parse', 'main')).toBe(before);
    expect(git(remote, 'rev-parse', 'main')).toBe(before);
  });

  it.each<MergeMode>(['rebase', 'merge-commit', 'squash'])(
    '%s: sends a conflicting branch back as a round with the new base',
    async (merge) => {
      const env = setup({ testCommand: 'true', merge });
      env.reviewed('left', 'same.txt');
      env.reviewed('right', 'same.txt');
      env.judgment.kick();
      await waitFor('one merged, one back', () => {
        const t = env.store.list();
        return t.some((x) => x.state === 'done') && t.some((x) => x.state === 'pending') ? t : null;
      });
      const back = env.store.list().find((t) => t.state === 'pending');
      expect(back?.review?.summary).toMatch(
        /conflicts in same\.txt.*Rebase this branch onto refs\/nightshift\/base\//,
      );
      expect(back?.baseSha).toBe(git(env.repo, 'rev-parse', 'main'));
      expect(back?.round).toBe(1);
    },
  );

  it('approves by gates, and parks a branch that fails them once its rounds are used up', async () => {
    const env = setup({ testCommand: 'test ! -e broken.txt' });
    env.reviewed('broken', 'broken.txt');
    env.store.transition(tid('broken'), (t) =>
      updateTask(t, Date.now(), 'no rounds', { spec: { ...t.spec, reviewRounds: 0 } }),
    );
    env.judgment.kick();
    await waitFor('parked', () => env.store.list().find((t) => t.id === 'broken')?.parked);
    const t = env.store.get(tid('broken'));
    expect(t).toMatchObject({ state: 'review', parked: 'needs-human' });
    expect(t.gates.find((g) => g.name === 'tests')?.passed).toBe(false);
    expect(git(env.repo, 'ls-tree', '--name-only', 'main')).not.toContain('broken.txt');
  });
});

describe('branch retention', () => {
  it('deletes a merged branch only after the retention period, and never an unmerged one', async () => {
    const env = setup({ testCommand: 'true' });
    env.reviewed('kept');
    env.reviewed('merged-long-ago');
    env.judgment.kick();
    await waitFor('both merged', () => env.store.list().every((t) => t.state === 'done'));
    env.reviewed('unmerged');
    const old = new Date(Date.now() - 8 * 86_400_000).toISOString();
    env.store.transition(tid('merged-long-ago'), (t) =>
      updateTask(t, Date.now(), 'backdate', { merge: { sha: t.merge?.sha ?? '', at: old } }),
    );
    expect(await env.judgment.pruneMergedBranches()).toBe(1);
    const branches = git(env.repo, 'branch', '--list', 'ns/*');
    expect(branches).toContain('ns/kept');
    expect(branches).toContain('ns/unmerged');
    expect(branches).not.toContain('ns/merged-long-ago');
    expect(env.store.get(tid('merged-long-ago')).branchPrunedAt).toBeTruthy();
  });
});

describe('cleanup', () => {
  const hostDirs: string[] = [];
  afterEach(() => {
    for (const d of hostDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** Two local worker hosts with the app's mirror, each in its own workdir (no tmux needed here). */
  async function twoHosts() {
    const hosts = new Map<string, WorkerHost>();
    for (const name of ['a', 'b']) {
      const workdir = mkdtempSync(path.join(os.tmpdir(), `ns-host-${name}-`));
      hostDirs.push(workdir);
      const host = new WorkerHost(
        name,
        new LocalRunner(),
        workdir,
        '0000beef',
        `ns-test-${process.pid}-${name}`,
      );
      await host.prepare();
      await host.ensureMirror('app', 'main');
      hosts.set(name, host);
    }
    return hosts;
  }

  /** What an attempt leaves on a host: the base ref, ns/<id> in the mirror, and its worktree. */
  async function attemptOn(host: WorkerHost, repo: string, id: string, base: string) {
    await host.pushBase(repo, 'app', tid(id), base);
    await host.pushBranch(repo, 'app', tid(id));
    await host.createWorktree('app', tid(id), true);
    expect(existsSync(host.worktree(tid(id)))).toBe(true);
  }

  const hasRef = (host: WorkerHost, ref: string) =>
    execFileSync('git', ['--git-dir', host.mirror('app'), 'for-each-ref', '--format=%(refname)', ref])
      .toString()
      .trim() !== '';

  it("removes every attempt's host worktree after a merge, and prunes the hosts' refs only after the retention period", async () => {
    const hosts = await twoHosts();
    const [a, b] = [hosts.get('a'), hosts.get('b')] as [WorkerHost, WorkerHost];
    const env = setup({ testCommand: 'true', hosts });
    env.reviewed('merged', 'merged.txt', { hosts: ['a', 'b'] });
    env.reviewed('recent', 'recent.txt', { hosts: ['a'] });
    const base = env.store.get(tid('merged')).baseSha ?? '';
    await attemptOn(a, env.repo, 'merged', base);
    await attemptOn(b, env.repo, 'merged', base);
    await attemptOn(a, env.repo, 'recent', base);
    env.judgment.kick();
    // Cleanup follows the move to done: wait for the queue to be idle too.
    await waitFor(
      'both merged and cleaned up',
      () => env.store.list().every((t) => t.state === 'done') && !env.judgment.busy,
      60_000,
    );
    for (const host of [a, b]) expect(existsSync(host.worktree(tid('merged')))).toBe(false);
    expect(existsSync(a.worktree(tid('recent')))).toBe(false);
    expect(existsSync(env.paths.gateCheckout('app', 'merged'))).toBe(false);
    // An unmerged task on host a: its refs stay whatever its age.
    env.reviewed('unmerged', 'unmerged.txt', { hosts: ['a'] });
    await attemptOn(a, env.repo, 'unmerged', git(env.repo, 'rev-parse', 'main'));
    const old = new Date(Date.now() - 8 * 86_400_000).toISOString();
    for (const id of ['merged', 'unmerged'])
      env.store.transition(tid(id), (t) =>
        updateTask(t, Date.now(), 'backdate', { merge: t.merge && { ...t.merge, at: old } }),
      );
    expect(await env.judgment.pruneMergedBranches()).toBe(1);
    for (const host of [a, b]) {
      expect(hasRef(host, 'refs/heads/ns/merged')).toBe(false);
      expect(hasRef(host, 'refs/nightshift/base/merged')).toBe(false);
    }
    for (const id of ['recent', 'unmerged']) {
      expect(hasRef(a, `refs/heads/ns/${id}`)).toBe(true);
      expect(hasRef(a, `refs/nightshift/base/${id}`)).toBe(true);
    }
    expect(env.store.get(tid('merged')).branchPrunedAt).toBeTruthy();
  });

  it('keeps a merged branch whose host could not be reached, and prunes it on a later cycle', async () => {
    const hosts = await twoHosts();
    const a = hosts.get('a') as WorkerHost;
    const env = setup({ testCommand: 'true', hosts });
    env.reviewed('merged', 'merged.txt', { hosts: ['a'] });
    await attemptOn(a, env.repo, 'merged', env.store.get(tid('merged')).baseSha ?? '');
    env.judgment.kick();
    await waitFor('merged', () => env.store.get(tid('merged')).state === 'done', 60_000);
    const old = new Date(Date.now() - 8 * 86_400_000).toISOString();
    env.store.transition(tid('merged'), (t) =>
      updateTask(t, Date.now(), 'backdate', { merge: t.merge && { ...t.merge, at: old } }),
    );
    // The mirror is unreadable for now: the branch's record stays unpruned and the host is named.
    const mirror = a.mirror('app');
    execFileSync('mv', [mirror, `${mirror}.away`]);
    expect(await env.judgment.pruneMergedBranches()).toBe(0);
    expect(env.store.get(tid('merged')).branchPrunedAt ?? null).toBeNull();
    expect(env.logs).toContainEqual(
      expect.stringMatching(/could not delete the refs of merged on a \(tried again next cycle\)/),
    );
    execFileSync('mv', [`${mirror}.away`, mirror]);
    expect(await env.judgment.pruneMergedBranches()).toBe(1);
    expect(hasRef(a, 'refs/heads/ns/merged')).toBe(false);
  });

  it('removes the gate worktree of a task that ended failed, and keeps those of tasks still in review', async () => {
    const env = setup({ architect: 'manual', testCommand: 'true' });
    env.reviewed('failing');
    env.reviewed('waiting');
    env.judgment.kick();
    await waitFor(
      'both judged',
      () => env.store.list().every((t) => t.parked === 'awaiting-approval'),
      60_000,
    );
    for (const id of ['failing', 'waiting']) expect(existsSync(env.paths.gateCheckout('app', id))).toBe(true);
    env.store.transition(tid('failing'), (t) =>
      enterFailed(t, {
        now: Date.now(),
        code: 'rejected',
        attribution: 'spec',
        reason: 'rejected by a person',
      }),
    );
    await env.judgment.tidy();
    expect(existsSync(env.paths.gateCheckout('app', 'failing'))).toBe(false);
    expect(existsSync(env.paths.gateCheckout('app', 'waiting'))).toBe(true);
    expect(git(env.repo, 'worktree', 'list')).not.toContain(`${path.sep}failing`);
  });
});
