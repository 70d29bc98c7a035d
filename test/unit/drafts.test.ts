import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptDraft, listDrafts, readSources, recordSource, writeDraft } from '../../src/queue/drafts.js';
import { issueDraft } from '../../src/client/github-import.js';
import { makeWorkspace, type TestWorkspace } from '../../src/testing/workspace.js';

let ws: TestWorkspace | null = null;
afterEach(() => {
  ws?.cleanup();
  ws = null;
});

describe('spec drafts', () => {
  it('writes a new file each time (never over another draft or an inbox file), lists and accepts them', () => {
    ws = makeWorkspace();
    const a = writeDraft(ws.paths, 'gh-1-x', 'one');
    const b = writeDraft(ws.paths, 'gh-1-x', 'two');
    writeFileSync(path.join(ws.paths.specs, 'gh-1-x-3.md'), 'in the inbox');
    const c = writeDraft(ws.paths, 'gh-1-x', 'three');
    expect([a.name, b.name, c.name]).toEqual(['gh-1-x.md', 'gh-1-x-2.md', 'gh-1-x-4.md']);
    expect(listDrafts(ws.paths).map((d) => d.name)).toEqual(['gh-1-x-2.md', 'gh-1-x-4.md', 'gh-1-x.md']);
    expect(() => acceptDraft(ws!.paths, '../../etc/passwd')).toThrow(/not a draft name/);
    writeFileSync(path.join(ws.paths.specs, 'gh-1-x.md'), 'taken');
    expect(() => acceptDraft(ws!.paths, 'gh-1-x.md')).toThrow(/inbox has a gh-1-x.md already/);
    const to = acceptDraft(ws.paths, 'gh-1-x-2.md');
    expect(readFileSync(to, 'utf8')).toBe('two');
    expect(listDrafts(ws.paths).map((d) => d.name)).toEqual(['gh-1-x-4.md', 'gh-1-x.md']);
  });

  it('lists no link and accepts none', () => {
    ws = makeWorkspace();
    mkdirSync(ws.paths.drafts, { recursive: true });
    symlinkSync('/etc/passwd', path.join(ws.paths.drafts, 'evil.md'));
    expect(listDrafts(ws.paths)).toEqual([]);
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
