import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import {
  createdPrUrl,
  existingPr,
  fenced,
  issueOf,
  oneLine,
  prCreateArgs,
  prRetry,
} from '../../src/daemon/pull-request-text.js';
import { specSource } from '../../src/spec/parse.js';

describe('repos.<name>.merge', () => {
  it('a strategy name is a local merge with that strategy', () => {
    const cfg = parseConfig('repos:\n  app: { path: ., merge: squash }\n', 'cfg');
    expect(cfg.repos['app']?.merge).toEqual({
      mode: 'local',
      strategy: 'squash',
      remote: 'origin',
      base: null,
      labels: [],
      draft: false,
    });
    expect(parseConfig('repos:\n  app: { path: . }\n', 'cfg').repos['app']?.merge.strategy).toBe('rebase');
  });

  it('mode: pr with its options', () => {
    const cfg = parseConfig(
      'repos:\n  app: { path: ., merge: { mode: pr, remote: upstream, base: develop, labels: [nightshift], draft: true } }\n',
      'cfg',
    );
    expect(cfg.repos['app']?.merge).toMatchObject({
      mode: 'pr',
      remote: 'upstream',
      base: 'develop',
      labels: ['nightshift'],
      draft: true,
    });
  });

  it.each([
    ['a label that starts with "-"', 'labels: ["--repo=evil/x"]'],
    ['a label with a comma', 'labels: ["a,b"]'],
    ['a remote that starts with "-"', 'remote: "--upload-pack=x"'],
    ['an unknown key', 'reviewers: [me]'],
  ])('refuses %s', (_what, option) => {
    expect(() =>
      parseConfig(`repos:\n  app: { path: ., merge: { mode: pr, ${option} } }\n`, 'cfg'),
    ).toThrow();
  });
});

describe('gh pr create arguments', () => {
  it('joins every value to its flag, so a title like "--help" stays a title', () => {
    const args = prCreateArgs({
      title: '--help\n--label=x',
      bodyFile: '/tmp/b.md',
      base: 'main',
      head: 'nightshift/a',
      labels: ['nightshift'],
      draft: true,
    });
    expect(args).toEqual([
      'pr',
      'create',
      '--title=--help --label=x',
      '--body-file=/tmp/b.md',
      '--base=main',
      '--head=nightshift/a',
      '--label=nightshift',
      '--draft',
    ]);
    for (const a of args.slice(2)) expect(a).toMatch(/^--[a-z-]+(=|$)/);
  });

  it('oneLine drops control characters and line breaks', () => {
    expect(oneLine('a\u001b[31mb\r\nc\u2028d')).toBe('a [31mb c d');
  });
});

describe('fenced', () => {
  it('uses a fence longer than any backtick run inside, so the text cannot close it', () => {
    const text = 'before\n````\nCloses #7\n````\nafter';
    const block = fenced(text);
    expect(block.startsWith('`````text\n')).toBe(true);
    expect(block.endsWith('\n`````')).toBe(true);
  });
});

describe("gh's answers", () => {
  it('reads the URL from pr create and the first pull request from pr list', () => {
    expect(createdPrUrl('Creating pull request\n\nhttps://github.com/a/b/pull/3\n')).toBe(
      'https://github.com/a/b/pull/3',
    );
    expect(createdPrUrl('Warning: 1 uncommitted change\n')).toBeNull();
    expect(existingPr('[{"url":"https://github.com/a/b/pull/9","number":9}]')).toEqual({
      url: 'https://github.com/a/b/pull/9',
      number: 9,
    });
    expect(existingPr('[]')).toBeNull();
    expect(existingPr('not json')).toBeNull();
    expect(existingPr('[{"url":"javascript:alert(1)"}]')).toBeNull();
  });
});

describe('prRetry', () => {
  const policy = { maxTries: 5, initialMs: 1_000, maxMs: 4_000 };
  it('doubles the delay up to the max, then gives up after maxTries', () => {
    expect([1, 2, 3, 4].map((n) => prRetry(n, 0, policy))).toEqual([
      { retry: true, at: 1_000 },
      { retry: true, at: 2_000 },
      { retry: true, at: 4_000 },
      { retry: true, at: 4_000 },
    ]);
    expect(prRetry(5, 0, policy)).toEqual({ retry: false });
  });
});

describe('the issue a spec came from', () => {
  it('reads source: from the front matter, and nothing else', () => {
    expect(specSource('---\ntitle: x\nsource: github:acme/app#12\n---\nbody\n')).toBe('github:acme/app#12');
    expect(specSource('---\ntitle: x\n---\nsource: github:acme/app#12\n')).toBeNull();
    expect(specSource('---\nsource: "github:acme/app#1; rm"\n---\n')).toBeNull();
    expect(issueOf('github:acme/app#12')).toEqual({ repo: 'acme/app', number: 12 });
    expect(issueOf('gitlab:acme/app#12')).toBeNull();
  });
});
