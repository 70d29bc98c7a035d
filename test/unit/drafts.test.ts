import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import {
  acceptDraft,
  discardDraft,
  draftDuplicate,
  draftFiles,
  draftName,
  draftNameProblem,
  listDrafts,
  readDraft,
  readSources,
  recordSource,
  writeDraft,
} from '../../src/queue/drafts.js';
import { issueDraft } from '../../src/client/github-import.js';
import { QueueStore } from '../../src/queue/store.js';
import { parseSpec } from '../../src/spec/parse.js';
import { makeWorkspace, specText, type TestWorkspace } from '../../src/testing/workspace.js';

let ws: TestWorkspace | null = null;
afterEach(() => ws?.cleanup());

describe('draft names', () => {
  it('are <id>.md, then <id>.<n>.md when taken', () => {
    const taken = new Set(['a.md', 'a.1.md']);
    expect(draftName('a', (n) => taken.has(n))).toBe('a.2.md');
    expect(draftName('b', (n) => taken.has(n))).toBe('b.md');
    expect(() => draftName('../etc', () => false)).toThrow(/draft id/);
    expect(() => draftName('A B', () => false)).toThrow(/draft id/);
  });

  it('refuse anything that could reach another path', () => {
    for (const bad of ['../x.md', 'x/y.md', '.x.md', 'x.md.tmp', 'X.md', '', 'x']) {
      expect(draftNameProblem(bad), bad).not.toBeNull();
    }
    expect(draftNameProblem('fix-cart.2.md')).toBeNull();
  });
});

describe('drafts', () => {
  it('are written, listed, read, accepted into the inbox and discarded', () => {
    ws = makeWorkspace();
    const name = writeDraft(ws.paths, 'one', specText({ id: 'one', extra: 'followUpOf: zero' }));
    writeDraft(ws.paths, 'two', specText({ id: 'two', body: 'too short' }));
    expect(name).toBe('one.md');
    const list = listDrafts(ws.paths, ws.config);
    expect(list.map((d) => [d.name, d.id, d.followUpOf])).toEqual([
      ['one.md', 'one', 'zero'],
      ['two.md', 'two', null],
    ]);
    expect(list[1]?.problems.join('\n')).toMatch(/the body has 2 words/);
    expect(readDraft(ws.paths, 'one.md')).toContain('followUpOf: zero');
    expect(acceptDraft(ws.paths, 'one.md')).toBe('one.md');
    expect(existsSync(path.join(ws.paths.specs, 'one.md'))).toBe(true);
    expect(discardDraft(ws.paths, 'two.md')).toBe('two.md');
    expect(readdirSync(path.join(ws.paths.drafts, '.discarded'))).toEqual(['two.md']);
    expect(listDrafts(ws.paths, ws.config)).toEqual([]);
    expect(() => readDraft(ws!.paths, '../nightshift.config.yaml')).toThrow(/not a draft name/);
  });

  it('never follow a link planted in specs/drafts/', () => {
    ws = makeWorkspace();
    writeDraft(ws.paths, 'real', specText({ id: 'real' }));
    const secret = path.join(ws.root, 'secret.txt');
    writeFileSync(secret, 'secret');
    symlinkSync(secret, path.join(ws.paths.drafts, 'link.md'));
    expect(listDrafts(ws.paths, ws.config).map((d) => d.name)).toEqual(['real.md']);
    expect(() => readDraft(ws!.paths, 'link.md')).toThrow(/link/);
    expect(() => acceptDraft(ws!.paths, 'link.md')).toThrow(/no draft/);
  });

  it('dedup: a queued task or a waiting draft with the same work', () => {
    ws = makeWorkspace();
    const store = new QueueStore(ws.paths, new ManualClock());
    store.ensureLayout();
    const queued = parseSpec(Buffer.from(specText({ id: 'q' })), { file: 'q.md', config: ws.config });
    store.enqueue(queued);
    expect(draftDuplicate(ws.paths, ws.config, store, queued.dedupKey)).toMatch(
      /duplicates task q \(pending\)/,
    );
    const text = specText({
      id: 'd',
      body: 'A different body that is long enough to be a real spec for an executor working alone overnight on it.',
    });
    writeDraft(ws.paths, 'd', text);
    const again = parseSpec(Buffer.from(text), { file: 'd2.md', config: ws.config });
    expect(draftDuplicate(ws.paths, ws.config, store, again.dedupKey)).toBe('duplicates the draft d.md');
    expect(draftDuplicate(ws.paths, ws.config, store, 'no-such-key')).toBeNull();
  });
});

describe('draft files and the source index (imports)', () => {
  it('lists no link and accepts none', () => {
    ws = makeWorkspace();
    mkdirSync(ws.paths.drafts, { recursive: true });
    symlinkSync('/etc/passwd', path.join(ws.paths.drafts, 'evil.md'));
    expect(draftFiles(ws.paths)).toEqual([]);
    expect(() => acceptDraft(ws!.paths, 'evil.md')).toThrow(/no draft/);
  });

  it('remembers sources', () => {
    ws = makeWorkspace();
    recordSource(ws.paths, 'github:a/b#1', 'gh-1.md', 0);
    recordSource(ws.paths, 'github:a/b#2', 'gh-2.md', 0);
    expect(Object.keys(readSources(ws.paths))).toEqual(['github:a/b#1', 'github:a/b#2']);
  });
});

describe('issueDraft', () => {
  it('writes the title and block values as JSON strings and takes no gates or source from the issue', () => {
    const d = issueDraft(
      {
        number: 9,
        title: 'x"\ninjected: true',
        body: 'text\n```nightshift\ngates: []\nsource: github:e/v#1\nfoo: 1\nid: my-task\n```\nmore',
        url: 'https://github.com/a/b/issues/9',
        labels: [],
      },
      'a/b',
    );
    expect(d.text).toContain('title: "x\\"\\ninjected: true"');
    expect(d.text).toContain('id: "my-task"');
    expect(d.text).not.toMatch(/^injected:/m);
    expect(d.text).not.toContain('gates');
    expect(d.text).toContain('source: "github:a/b#9"');
    expect(d.notes).toEqual([
      'left out "gates": an issue cannot set it',
      'left out "source": an issue cannot set it',
      'left out "foo": not a spec key',
    ]);
    expect(d.base).toBe('gh-9-x-injected-true');
  });
});
