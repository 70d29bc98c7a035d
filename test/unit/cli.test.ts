import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enterRunning, enterReview } from '../../src/core/task.js';
import { isBareInvocation, nearestCommand } from '../../src/cli/main.js';
import { demoSession } from '../../src/cli/commands/demo.js';
import { ManualClock } from '../../src/lib/clock.js';
import { WorkspaceLock } from '../../src/queue/lock.js';
import { QueueStore } from '../../src/queue/store.js';
import { makeWorkspace, runCli, specText, type TestWorkspace } from '../../src/testing/workspace.js';
import { tid } from '../../src/testing/ids.js';

let ws: TestWorkspace;
const clock = new ManualClock(Date.UTC(2026, 10, 26, 22));
const cli = (...args: string[]) => runCli(args, { cwd: ws.root, clock });

beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(() => ws.cleanup());

/** Writes a file as if a minute ago: inbox specs are settled, so commands take them without waiting. */
function write(name: string, text: string): string {
  const file = path.join(ws.root, name);
  writeFileSync(file, text);
  const then = new Date(Date.now() - 60_000);
  utimesSync(file, then, then);
  return name;
}

function toReview(id: string): void {
  const store = new QueueStore(ws.paths, clock);
  store.transition(tid(id), (t) =>
    enterRunning(t, { now: clock.now(), provider: 'scripted', host: 'local' }),
  );
  store.transition(tid(id), (t) => enterReview(t, { now: clock.now(), exitCode: 0 }));
}

describe('init', () => {
  it('scaffolds a workspace whose example spec passes lint and can be queued through the inbox', async () => {
    const dir = path.join(ws.root, 'night');
    const init = await runCli(['init', 'night'], { cwd: ws.root, clock });
    expect(init.code).toBe(0);
    expect(statSync(path.join(dir, 'nightshift.config.yaml')).mode & 0o777).toBe(0o600);
    for (const d of ['specs', 'queue/pending', 'queue/tmp', 'queue/requests', 'logs', 'reports']) {
      expect(existsSync(path.join(dir, d))).toBe(true);
    }
    const example = path.join(dir, 'examples', 'slugify-helper.md');
    const lint = await runCli(['-w', 'night', 'lint', example], { cwd: ws.root, clock });
    expect(lint).toMatchObject({ code: 0 });
    expect(lint.stdout).toContain('1/1 spec(s) valid, 0 warning(s)');
    writeFileSync(path.join(dir, 'specs', 'slugify-helper.md'), readFileSync(example));
    const ls = await runCli(['-w', 'night', 'ls', '--json'], { cwd: ws.root, clock });
    expect(JSON.parse(ls.stdout)).toEqual([
      expect.objectContaining({ id: 'slugify-helper', state: 'pending' }),
    ]);
    expect(readdirSync(path.join(dir, 'specs', '.accepted'))).toEqual(['slugify-helper.md']);
    expect((await runCli(['init', 'night'], { cwd: ws.root, clock })).code).toBe(2);
  });

  it('tells a user with no workspace what to do', async () => {
    const r = await runCli(['ls'], { cwd: path.dirname(ws.root), clock });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no nightshift.config.yaml in .*run `nightshift init/);
  });
});

describe('add and lint', () => {
  it('queues valid specs and prints their ids', async () => {
    const r = await cli('add', write('a.md', specText({ id: 'alpha' })));
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('queued alpha');
    expect(existsSync(ws.paths.taskDir('pending', 'alpha'))).toBe(true);
  });

  it('queues nothing when any file is invalid, exits 2, and names file, line and field', async () => {
    const good = write('good.md', specText({ id: 'good' }));
    const bad = write('bad.md', specText({ id: 'bad', extra: 'attempts: three' }));
    const r = await cli('add', good, bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.md:\d+: attempts: expected number; found the text "three"/);
    expect(r.stderr).toContain('nothing queued');
    for (const s of ['pending', 'tmp'] as const)
      expect(readdirSync(ws.paths.stateDir(s === 'tmp' ? 'pending' : s))).toEqual([]);
    expect(readdirSync(ws.paths.tmp)).toEqual([]);
  });

  it('refuses a duplicate with the id it duplicates, and --force queues it', async () => {
    await cli('add', write('a.md', specText({ id: 'alpha' })));
    const dup = await cli('add', write('b.md', specText({ id: 'beta' })));
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/duplicates task alpha/);
    expect(dup.stderr).toMatch(/^error: b\.md: duplicates task alpha/m); // the file named once
    expect((await cli('add', '--force', 'b.md')).code).toBe(0);
  });

  it('lint warns about missing tests and stop, and --strict makes that an error', async () => {
    const f = write('thin.md', '# Do a thing\n\nPlease do the thing.\n');
    const r = await cli('lint', f);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: thin\.md: tests: no tests/);
    expect(r.stderr).toMatch(/warning: thin\.md: stop: no stop condition/);
    expect(r.stderr).toMatch(/under 20 rarely/);
    const strict = await cli('lint', '--strict', f);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/error: thin\.md: tests/);
    const json = await cli('lint', '--json', f);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ file: 'thin.md', id: 'thin', ok: true }),
    ]);
  });

  it('lint exits 2 for a missing file and for a directory', async () => {
    expect((await cli('lint', 'missing.md')).stderr).toMatch(/missing\.md: no such file/);
    expect((await cli('lint', 'specs')).code).toBe(2);
  });

  it('schema prints a JSON Schema that knows every front matter key', async () => {
    const r = await cli('schema');
    const schema = JSON.parse(r.stdout) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'title',
        'id',
        'repo',
        'base',
        'provider',
        'priority',
        'dependsOn',
        'timeout',
        'idle',
        'attempts',
        'reviewRounds',
        'tests',
        'stop',
        'gates',
      ]),
    );
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('ls and show', () => {
  it('ls --json keeps the contract fields and orders by state, priority, age', async () => {
    await cli('add', write('a.md', specText({ id: 'low' })));
    clock.advance(1000);
    await cli(
      'add',
      write(
        'b.md',
        specText({
          id: 'high',
          extra: 'priority: 5',
          body: 'Another body with enough words to be a real spec for an executor to work on overnight, honestly.',
        }),
      ),
    );
    const r = await cli('ls', '--json');
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows.map((t) => t['id'])).toEqual(['high', 'low']);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual([
      'attempt',
      'grade',
      'id',
      'priority',
      'provider',
      'state',
      'title',
      'updatedAt',
    ]);
    const table = await cli('ls');
    expect(table.stdout).toMatch(/^ID\s+STATE\s+PRI/);
    expect(table.stdout).toContain('2 task(s): 2 pending');
    expect((await cli('ls', '--state', 'done')).stdout).toContain('no done tasks');
    expect((await cli('ls', '--state', 'bogus')).code).toBe(2);
  });

  it('show --json prints the whole record with attempts', async () => {
    await cli('add', write('a.md', specText({ id: 'alpha' })));
    toReview('alpha');
    const r = await cli('show', 'alpha', '--json');
    const task = JSON.parse(r.stdout) as { attempts: Record<string, unknown>[]; state: string };
    expect(task.state).toBe('review');
    expect(Object.keys(task.attempts[0] ?? {})).toEqual(
      expect.arrayContaining([
        'n',
        'provider',
        'host',
        'startedAt',
        'endedAt',
        'exitCode',
        'outcome',
        'attribution',
      ]),
    );
    expect((await cli('show', 'alpha')).stdout).toMatch(/#1 scripted@local .* exited exit 0/);
    expect((await cli('show', 'Bad_Id')).code).toBe(2);
    const missing = await cli('show', 'nope');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no task "nope"/);
  });
});

describe('requests', () => {
  it('approve, reject, kill and retry follow the state machine', async () => {
    await cli('add', write('a.md', specText({ id: 'alpha' })));
    expect((await cli('approve', 'alpha')).stderr).toMatch(
      /alpha is pending; only tasks in review can be approved/,
    );
    toReview('alpha');
    expect((await cli('approve', 'alpha')).stdout).toMatch(/approved alpha/);
    const reviewed = new QueueStore(ws.paths, clock).get(tid('alpha'));
    expect(reviewed.review).toMatchObject({ verdict: 'approve', approvedBy: 'human' });
    expect((await cli('reject', 'alpha')).code).toBe(0);
    expect(new QueueStore(ws.paths, clock).get(tid('alpha'))).toMatchObject({
      state: 'failed',
      failure: { code: 'rejected', attribution: 'spec' },
    });
    expect((await cli('retry', 'alpha')).stdout).toMatch(/alpha is pending again/);
    expect((await cli('kill', 'alpha')).code).toBe(0);
    const killed = new QueueStore(ws.paths, clock).get(tid('alpha'));
    expect(killed).toMatchObject({ state: 'failed', failure: { code: 'killed' } });
    expect(killed.history.map((h) => h.to)).toEqual([
      'pending',
      'running',
      'review',
      'failed',
      'pending',
      'failed',
    ]);
    const applied = readdirSync(ws.paths.requestsApplied);
    expect(applied).toHaveLength(6);
  });

  it('freeze, thaw and gates persist in a 0600 state file', async () => {
    expect((await cli('freeze')).stdout).toMatch(/dispatch frozen/);
    expect((await cli('freeze', '--provider', 'other')).code).toBe(0);
    const ghost = await cli('freeze', '--provider', 'ghost');
    expect(ghost.stderr).toMatch(/unknown provider "ghost"; the config names: scripted, other/);
    expect(ghost.code).toBe(2); // invalid input, like add and lint
    const bad = await cli('thaw', '--provider', 'NOPE');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a provider name: .*found "NOPE"/);
    const ls = await cli('ls');
    expect(ls.stdout).toContain('FROZEN');
    expect(ls.stdout).toContain('frozen providers: other');
    await cli('thaw');
    expect((await cli('ls')).stdout).not.toContain('FROZEN');
    expect((await cli('gate', 'off', 'tests')).code).toBe(0);
    expect((await cli('gate', 'on', 'lint')).stderr).toMatch(
      /gate lint has no command; set gates\.lint\.command/,
    );
    const gates = JSON.parse((await cli('gate', 'ls', '--json')).stdout) as {
      name: string;
      enabled: boolean;
      source: string;
    }[];
    expect(gates.find((g) => g.name === 'tests')).toMatchObject({ enabled: false, source: 'toggle' });
    expect(gates.find((g) => g.name === 'diff')).toMatchObject({ enabled: true, source: 'config' });
    expect((await cli('gate', 'on', 'nonsense')).code).toBe(2);
    const stateFile = path.join(ws.paths.stateStore, 'toggles.json');
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
  });

  it('with a live daemon, clients only write requests and never apply them', async () => {
    await cli('add', write('a.md', specText({ id: 'alpha' })));
    const daemon = WorkspaceLock.tryAcquire(ws.paths.lock, 'daemon', clock.now());
    try {
      const store = new QueueStore(ws.paths, clock);
      const { WorkspaceClient } = await import('../../src/client/workspace.js');
      const client = WorkspaceClient.open(ws.root, clock);
      const outcome = await client.submit({ kind: 'kill', task: tid('alpha') }, 0);
      expect(outcome).toMatchObject({ ok: true, queued: true });
      expect(store.get(tid('alpha')).state).toBe('pending');
      expect(readdirSync(ws.paths.requests).filter((n) => n.endsWith('.json'))).toHaveLength(1);
      write(
        'specs/b.md',
        specText({
          id: 'beta',
          body: 'Yet another body with enough words to count as a real spec for the linter to accept quietly.',
        }),
      );
      await cli('ls');
      expect(store.locate(tid('beta'))).toBeNull();
    } finally {
      daemon?.release();
    }
    await cli('ls');
    expect(new QueueStore(ws.paths, clock).get(tid('alpha')).state).toBe('failed');
  });
});

describe('the inbox', () => {
  it('accepts valid specs and rejects invalid ones with an error file, losing nothing', async () => {
    const valid = specText({ id: 'inbox-ok' });
    const invalid = '---\ntitle: x\nid: ../../etc\n---\nbody\n';
    write('specs/ok.md', valid);
    write('specs/bad.md', invalid);
    write('specs/notes.txt', 'not a spec');
    const r = await cli('ls', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id: 'inbox-ok' })]);
    expect(readFileSync(path.join(ws.paths.accepted, 'ok.md'), 'utf8')).toBe(valid);
    expect(readFileSync(path.join(ws.paths.rejected, 'bad.md'), 'utf8')).toBe(invalid);
    expect(readFileSync(path.join(ws.paths.rejected, 'bad.md.error.txt'), 'utf8')).toMatch(
      /bad\.md:3: id: expected 1-63 characters/,
    );
    expect(existsSync(path.join(ws.paths.specs, 'notes.txt'))).toBe(true);
    expect(r.stderr).toContain('inbox: rejected bad.md');
    // The same name again does not overwrite the earlier rejection.
    write('specs/bad.md', invalid);
    const again = await cli('ls');
    // The message names the file it really wrote, and says why in its first line.
    expect(again.stderr).toContain(
      'moved to specs/.rejected/bad.1.md; see specs/.rejected/bad.1.md.error.txt',
    );
    expect(again.stderr).toMatch(/inbox: rejected bad\.md: .*bad\.md:3: id: expected 1-63 characters/);
    expect(readdirSync(ws.paths.rejected).sort()).toEqual([
      'bad.1.md',
      'bad.1.md.error.txt',
      'bad.md',
      'bad.md.error.txt',
    ]);
  });

  it('a socket or FIFO named *.md is moved to .rejected unopened, and the valid spec beside it is queued', async () => {
    const sock = path.join(ws.paths.specs, 'x.md');
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sock, resolve);
    });
    try {
      execFileSync('mkfifo', [path.join(ws.paths.specs, 'pipe.md')]);
      write('specs/ok.md', specText({ id: 'beside' }));
      const r = await cli('ls', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id: 'beside' })]);
      expect(readdirSync(ws.paths.specs).filter((f) => !f.startsWith('.'))).toEqual([]);
      expect(statSync(path.join(ws.paths.rejected, 'x.md')).isSocket()).toBe(true);
      expect(readFileSync(path.join(ws.paths.rejected, 'x.md.error.txt'), 'utf8')).toMatch(
        /x\.md: is a socket, not a spec file .*moved aside without being opened; remove it/,
      );
      expect(readFileSync(path.join(ws.paths.rejected, 'pipe.md.error.txt'), 'utf8')).toMatch(
        /pipe\.md: is not a regular file/,
      );
      expect(r.stderr).toMatch(/inbox: rejected x\.md: .*is a socket/);
    } finally {
      server.close();
    }
  });

  // Root reads a mode-0000 file; as root the socket and FIFO case above covers the open errors.
  it.skipIf(process.getuid?.() === 0)(
    'a spec nightshift may not read is rejected with what to do, not a failed command',
    async () => {
      write('specs/secret.md', specText({ id: 'locked-out' }));
      chmodSync(path.join(ws.paths.specs, 'secret.md'), 0o000);
      write('specs/ok.md', specText({ id: 'beside' }));
      const r = await cli('ls', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id: 'beside' })]);
      expect(readFileSync(path.join(ws.paths.rejected, 'secret.md.error.txt'), 'utf8')).toMatch(
        /secret\.md: cannot be read by nightshift \(EACCES.*read permission/,
      );
    },
  );

  it('a duplicate dropped in the inbox is rejected with the id it duplicates', async () => {
    write('specs/one.md', specText({ id: 'one' }));
    await cli('ls');
    write('specs/two.md', specText({ id: 'two' }));
    await cli('ls');
    expect(readFileSync(path.join(ws.paths.rejected, 'two.md.error.txt'), 'utf8')).toMatch(
      /duplicates task one/,
    );
  });
});

describe('usage', () => {
  it('exits 2 on unknown commands and options, 0 on --help and --version', async () => {
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(unknown.stderr).not.toContain('too many arguments');
    const typo = await cli('demo-attach');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'demo-attach'[\s\S]*Did you mean demo\?/);
    // A bare `nightshift` with a stray word starts no TUI and no daemon.
    expect((await cli('--no-tmux', 'board')).stderr).toContain("unknown command 'board'");
    expect((await cli('ls', '--nope')).code).toBe(2);
    expect((await cli('--help')).code).toBe(0);
    expect((await cli('add', '--help')).stdout).toContain('--force');
    expect((await cli('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('the demo', () => {
  it('names its tmux session after its workspace, so a second demo never attaches to the first', () => {
    expect(demoSession('/tmp/nightshift-demo-AbC123')).toBe('nightshift-demo-AbC123');
    expect(demoSession('/tmp/nightshift-demo-xyz')).not.toBe(demoSession('/tmp/nightshift-demo-AbC123'));
  });
});

describe('nearestCommand', () => {
  const names = ['add', 'demo', 'doctor', 'ls', 'show', 'report', 'providers'];
  it('suggests a close spelling or the command a word starts with, and nothing for far words', () => {
    expect(nearestCommand('lss', names)).toBe('ls');
    expect(nearestCommand('shwo', names)).toBe('show');
    expect(nearestCommand('reprot', names)).toBe('report');
    expect(nearestCommand('demo-attach', names)).toBe('demo');
    expect(nearestCommand('prov', names)).toBe('providers');
    expect(nearestCommand('bogus', names)).toBeNull();
    expect(nearestCommand('x', names)).toBeNull();
  });
});

describe('the bare invocation (the TUI path, built without the subcommands)', () => {
  it('is only options that the bare program takes, never a command, help or version', () => {
    const bare = [
      [],
      ['-w', 'ws'],
      ['--workspace=ws'],
      ['--no-tmux'],
      ['--read-only'],
      ['--daemon', '--once'],
    ];
    for (const argv of bare) expect(isBareInvocation(argv), argv.join(' ')).toBe(true);
    const full = [
      ['ls'],
      ['-w', 'ws', 'ls'],
      ['--help'],
      ['-h'],
      ['-V'],
      ['--version'],
      ['-hw'],
      ['--', 'x'],
    ];
    for (const argv of full) expect(isBareInvocation(argv), argv.join(' ')).toBe(false);
  });
});
