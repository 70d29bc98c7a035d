import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.js';
import { makeWorkspace, runCli, specText, type TestWorkspace } from '../../src/testing/workspace.js';

let ws: TestWorkspace;
const clock = new ManualClock(Date.UTC(2026, 10, 26, 22));
const cli = (...args: string[]) => runCli(args, { cwd: ws.root, clock });

beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

/** A spec file `<id>.md` depending on `deps` (each body distinct, so none duplicates another). */
function spec(id: string, deps: string[], dir = ws.root): string {
  const file = path.join(dir, `${id}.md`);
  writeFileSync(
    file,
    specText({
      id,
      extra: deps.length ? `dependsOn: [${deps.join(', ')}]` : '',
      body: `Implement the ${id} part of the retry client, with exponential backoff and tests for it.`,
    }),
  );
  const then = new Date(Date.now() - 60_000);
  utimesSync(file, then, then);
  return path.relative(ws.root, file);
}
const pending = () => readdirSync(ws.paths.stateDir('pending')).sort();

describe('dependsOn at add and lint', () => {
  it('add refuses a cycle in the batch with exit 2, naming the cycle, and queues nothing', async () => {
    const r = await cli('add', spec('a', ['b']), spec('b', ['a']), spec('c', []));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: a\.md: dependsOn: closes a cycle a → b → a/);
    expect(r.stderr).toContain('nothing queued');
    expect(pending()).toEqual([]);
  });

  it('add refuses a cycle that closes through a queued task', async () => {
    const first = await cli('add', '--allow-unknown-deps', spec('x', ['late']));
    expect(first.code).toBe(0);
    const r = await cli('add', spec('late', ['x']));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('late → x → late');
    expect(pending()).toEqual(['x']);
  });

  it('add refuses an unknown dependency unless --allow-unknown-deps, which queues it to wait', async () => {
    const r = await cli('add', spec('b', ['ghost']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /b\.md: dependsOn: .*"ghost", which is neither queued nor among the specs given/,
    );
    expect(r.stderr).toContain('--allow-unknown-deps');
    expect(pending()).toEqual([]);
    const ok = await cli('add', '--allow-unknown-deps', 'b.md');
    expect(ok.code).toBe(0);
    expect(pending()).toEqual(['b']);
  });

  it('add queues a dependant listed before its dependency (dependencies are sent first)', async () => {
    const r = await cli('add', spec('b', ['a']), spec('a', []));
    expect(r).toMatchObject({ code: 0 });
    expect(pending()).toEqual(['a', 'b']);
  });

  it('lint exits 2 on a cycle and on an unknown dependency; --allow-unknown-deps accepts the latter', async () => {
    const cycle = await cli('lint', spec('a', ['b']), spec('b', ['a']));
    expect(cycle.code).toBe(2);
    expect(cycle.stderr).toContain('a → b → a');
    const unknown = await cli('lint', spec('c', ['ghost']));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"ghost"');
    expect((await cli('lint', '--allow-unknown-deps', 'c.md')).code).toBe(0);
    // Known from the queue: no error.
    await cli('add', spec('d', []));
    expect((await cli('lint', spec('e', ['d']))).code).toBe(0);
  });

  it('the inbox waits for an unknown dependency but refuses a cycle through the queue', async () => {
    spec('p', ['q'], ws.paths.specs);
    expect((await cli('ls')).code).toBe(0);
    expect(pending()).toEqual(['p']);
    spec('q', ['p'], ws.paths.specs);
    await cli('ls');
    expect(pending()).toEqual(['p']);
    expect(existsSync(path.join(ws.paths.rejected, 'q.md.error.txt'))).toBe(true);
  });
});
