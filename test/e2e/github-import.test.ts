/**
 * `nightshift import github` end to end: the CLI in-process, a `gh` stand-in on PATH (the process
 * boundary) that answers `gh issue list --json` and records its argv, a real workspace.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeGhStub, type GhStub } from '../../src/testing/gh-stub.js';
import { makeWorkspace, runCli, type TestWorkspace } from '../../src/testing/workspace.js';

let ws: TestWorkspace | null = null;
let gh: GhStub | null = null;
afterEach(() => {
  ws?.cleanup();
  gh?.cleanup();
  ws = gh = null;
});

const GOOD_BODY = [
  'Add a slugify helper to src/text.ts that lowercases, replaces runs of non-alphanumerics with one',
  'dash and trims dashes at both ends, with unit tests for the edge cases.',
  '',
  '```nightshift',
  'tests: [slugify_handles_unicode]',
  'stop: Stop when the tests pass and nothing else changed.',
  'gates: []',
  'source: github:evil/other#1',
  '```',
].join('\n');

function issues(marker: string) {
  return [
    {
      number: 3,
      title: 'Add slugify',
      body: GOOD_BODY,
      labels: [{ name: 'nightshift' }],
      url: 'https://github.com/acme/app/issues/3',
    },
    // No block: defaults only, so lint warns (no tests, no stop) but the draft is valid.
    {
      number: 4,
      title: '--help',
      body: 'Print the usage when asked with a flag that starts with two dashes, and test it.',
      labels: [],
      url: 'https://github.com/acme/app/issues/4',
    },
    {
      number: 5,
      title: `$(touch ${marker})`,
      body: `Make \`$(touch ${marker})\` harmless everywhere it is shown.`,
      labels: [],
      url: '',
    },
    { number: 6, title: '../../etc/passwd', body: 'A title that looks like a path.', labels: [], url: '' },
    // Invalid: the block names an unknown repo.
    {
      number: 7,
      title: 'Broken',
      body: 'Text long enough to be a spec body here.\n\n```yaml\nrepo: nowhere\n```\n',
      labels: [],
      url: '',
    },
  ];
}

describe('nightshift import github', () => {
  it('drafts each issue once, lints them, queues only the valid ones, and handles hostile titles as text', async () => {
    ws = makeWorkspace();
    gh = makeGhStub();
    const marker = path.join(os.tmpdir(), `ns-import-pwned-${process.pid}-${Date.now()}`);
    gh.setIssues(issues(marker));
    const env = gh.env({ ...process.env, NIGHTSHIFT_WORKSPACE: ws.root });
    const run = (...args: string[]) =>
      runCli(['import', 'github', 'acme/app', '--label', 'nightshift', ...args], { cwd: ws!.root, env });

    const first = await run();
    expect(first.code).toBe(0);
    const [call] = gh.calls();
    expect(call?.argv).toEqual([
      'issue',
      'list',
      '--repo=acme/app',
      '--label=nightshift',
      '--state=open',
      '--json=number,title,body,labels,url',
      '--limit=100',
    ]);
    const drafts = readdirSync(ws.paths.drafts)
      .filter((n) => n.endsWith('.md'))
      .sort();
    expect(drafts).toHaveLength(5);
    for (const d of drafts) expect(d).toMatch(/^gh-[0-9]+-[a-z0-9-]+\.md$/);
    expect(drafts).toEqual(
      expect.arrayContaining(['gh-3-add-slugify.md', 'gh-4-help.md', 'gh-6-etc-passwd.md', 'gh-7-broken.md']),
    );
    expect(drafts.some((d) => d.startsWith('gh-5-touch-tmp-ns-import-pwned-'))).toBe(true);
    expect(existsSync(marker)).toBe(false);
    // Nothing outside specs/drafts/ was written for the path-like title.
    expect(existsSync(path.join(ws.root, 'etc'))).toBe(false);

    const slug = readFileSync(path.join(ws.paths.drafts, 'gh-3-add-slugify.md'), 'utf8');
    expect(slug).toContain('source: "github:acme/app#3"');
    expect(slug).toContain('tests: ["slugify_handles_unicode"]');
    // The issue cannot turn the gates off or claim another source.
    expect(slug).not.toContain('gates:');
    expect(slug).not.toContain('evil/other');
    expect(first.stdout).toContain('left out "gates": an issue cannot set it');
    expect(readFileSync(path.join(ws.paths.drafts, 'gh-4-help.md'), 'utf8')).toContain('title: "--help"');
    expect(first.stderr).toMatch(/gh-7-broken\.md.*repo/);
    expect(first.stdout).toContain('4/5 draft(s) of acme/app valid');

    // Again: nothing drafted twice.
    const second = await run();
    expect(second.stdout.match(/^known /gm)).toHaveLength(5);
    expect(readdirSync(ws.paths.drafts).filter((n) => n.endsWith('.md'))).toHaveLength(5);

    // --queue: the valid ones move to the inbox, the invalid one stays.
    const third = await run('--queue');
    expect(third.code).toBe(2);
    const inbox = readdirSync(ws.paths.specs)
      .filter((n) => n.endsWith('.md'))
      .sort();
    expect(inbox).toHaveLength(4);
    expect(inbox).not.toContain('gh-7-broken.md');
    expect(readdirSync(ws.paths.drafts).filter((n) => n.endsWith('.md'))).toEqual(['gh-7-broken.md']);
    expect(third.stdout).toMatch(/kept {4}.*gh-7-broken\.md: not valid/);

    // And once more after that: the queued issues are still known, not drafted again.
    const fourth = await run();
    expect(fourth.stdout.match(/^known /gm)).toHaveLength(5);
    expect(readdirSync(ws.paths.drafts).filter((n) => n.endsWith('.md'))).toEqual(['gh-7-broken.md']);
  });

  it('a gh failure names the repository and what to do; a bad owner/repo never reaches gh', async () => {
    ws = makeWorkspace();
    gh = makeGhStub();
    const env = gh.env({ ...process.env, NIGHTSHIFT_WORKSPACE: ws.root });
    gh.fail('HTTP 401: Bad credentials\n');
    const failed = await runCli(['import', 'github', 'acme/app', '--label', 'x'], { cwd: ws.root, env });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('acme/app');
    expect(failed.stderr).toContain('gh auth login');
    const calls = gh.calls().length;
    const bad = await runCli(['import', 'github', '--repo=evil/x', '--label', 'x'], { cwd: ws.root, env });
    expect(bad.code).not.toBe(0);
    const bad2 = await runCli(['import', 'github', '-x/y', '--label', 'x'], { cwd: ws.root, env });
    expect(bad2.code).not.toBe(0);
    expect(gh.calls().length).toBe(calls);
  });
});
