/**
 * The claude-code ArchitectWriter (review/claude-writer.ts) with a scripted session port (the process
 * boundary) and a real git repository: which mode gets which writer, the isolated checkout of main the
 * session runs in, read-only tools, one session per purpose, one call at a time, and the answer's usage.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { workspacePaths } from '../../src/config/paths.js';
import { configSchema } from '../../src/config/schema.js';
import { architectWriter } from '../../src/review/architect-writer.js';
import type { ArchitectSessions, SessionOutcome, SessionRun } from '../../src/review/architect-tmux.js';
import { claudeWriter } from '../../src/review/claude-writer.js';
import type { WriterRequest } from '../../src/review/writer-port.js';
import { makeRepo } from '../../src/testing/git.js';

const KEY = 'sk-writer-unit-1234';
const config = (mode: string) => configSchema.parse({ architect: { mode } }).architect;
const answer = (value: unknown): SessionOutcome => ({
  exitCode: 0,
  output: JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: false,
    session_id: '11111111-2222-3333-4444-555555555555',
    result: '',
    structured_output: value,
    usage: { input_tokens: 30, output_tokens: 7 },
    total_cost_usd: 0.02,
  }),
  timedOut: false,
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const repo = makeRepo({ 'app.ts': 'MAIN-CONTENT\n' });
  writeFileSync(path.join(repo, 'app.ts'), 'WORKTREE-EDIT\n');
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-ccwu-'));
  dirs.push(repo, root);
  const paths = workspacePaths(root);
  const runs: { run: SessionRun; seen: string | null }[] = [];
  let live = 0;
  let overlapped = false;
  const sessions: ArchitectSessions = {
    run: async (r) => {
      overlapped ||= live > 0;
      live++;
      const file = path.join(r.cwd, 'app.ts');
      runs.push({ run: r, seen: existsSync(file) ? readFileSync(file, 'utf8') : null });
      await new Promise((res) => setImmediate(res));
      live--;
      return answer({ n: runs.length });
    },
  };
  const req = (purpose: WriterRequest['purpose']): WriterRequest => ({
    purpose,
    system: 'Answer only by calling the submit_n tool, exactly once.',
    prompt: 'the goal',
    toolName: 'submit_n',
    jsonSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
    schema: z.object({ n: z.number() }),
    repo: { name: 'app', dir: repo, main: 'main' },
  });
  return { paths, runs, sessions, req, overlapped: () => overlapped };
}

describe('architectWriter', () => {
  it('claude-code with its credential writes; without it, or in gates and manual, nothing does', () => {
    const { paths } = setup();
    const env = { ANTHROPIC_API_KEY: KEY };
    expect(architectWriter(config('claude-code'), env, () => {}, paths)).toBeTypeOf('function');
    expect(architectWriter(config('claude-code'), {}, () => {}, paths)).toBeNull();
    expect(architectWriter(config('gates'), env, () => {}, paths)).toBeNull();
    expect(architectWriter(config('manual'), env, () => {}, paths)).toBeNull();
  });
});

describe('claudeWriter', () => {
  it("runs in a fresh checkout of main, read-only, in its purpose's session, one call at a time", async () => {
    const s = setup();
    const log: string[] = [];
    const write = claudeWriter(
      config('claude-code'),
      { ANTHROPIC_API_KEY: KEY },
      {
        paths: s.paths,
        sessions: s.sessions,
        log: (l) => log.push(l),
      },
    );
    const [plan, follow] = await Promise.all([write(s.req('plan')), write(s.req('follow-up'))]);
    expect(plan).toEqual({
      ok: true,
      value: { n: 1 },
      usage: { inputTokens: 30, outputTokens: 7, costUsd: 0.02 },
    });
    expect(follow).toMatchObject({ ok: true, value: { n: 2 } });
    expect(s.overlapped()).toBe(false);
    const [a, b] = s.runs;
    // main's committed content, not the repository's work tree, in a checkout under the workspace.
    expect(a?.seen).toBe('MAIN-CONTENT\n');
    expect(a?.run.cwd).toBe(s.paths.gateCheckout('app', '.architect-plan'));
    expect(b?.run.cwd).toBe(s.paths.gateCheckout('app', '.architect-follow-up'));
    expect([a?.run.session, b?.run.session]).toEqual(['ns-architect-plan', 'ns-architect-follow-up']);
    const tools = a?.run.argv[a.run.argv.indexOf('--tools') + 1];
    expect(tools).toBe('Read,Grep,Glob');
    expect(a?.run.argv.join(' ')).not.toContain('Bash(');
    // The session is told to answer through StructuredOutput, and the checkout is removed afterwards.
    expect(a?.run.argv.join('\n')).toContain('the submit_n tool is the StructuredOutput tool');
    expect(existsSync(s.paths.gateCheckout('app', '.architect-plan'))).toBe(false);
    expect(log.join('\n')).not.toContain(KEY);
  });

  it('a request without its repository, or a repo without that branch, fails with the reason', async () => {
    const s = setup();
    const write = claudeWriter(
      config('claude-code'),
      { ANTHROPIC_API_KEY: KEY },
      {
        paths: s.paths,
        sessions: s.sessions,
      },
    );
    const { repo: _repo, ...bare } = s.req('plan');
    const none = await write(bare);
    expect(none.ok).toBe(false);
    expect(!none.ok && none.reason).toMatch(/no repository to explore/);
    const r = await write({ ...s.req('plan'), repo: { ...s.req('plan').repo!, main: 'nope' } });
    expect(!r.ok && r.reason).toMatch(/has no branch nope .*repos\.app\.main/);
    expect(s.runs).toHaveLength(0);
  });
});
