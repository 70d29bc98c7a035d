/**
 * Crash safety of the whole daemon, end to end, with the real process and kill -9.
 *
 * The real daemon (`node bin/nightshift.js -w <ws> daemon`, on its own tmux socket) runs 100 scripted
 * specs (each writes its own file, sleeps a seeded 0–1 s, commits, exits 0), dropped into specs/ in
 * waves. It is SIGKILLed 200 times — only the daemon process, as a crash or systemd's KillMode=process
 * would: its executors in tmux and any git it had started carry on — and restarted each time; a last
 * daemon runs with --until-idle. Kill points come from a seeded PRNG and are placed by events, never by
 * sleeps: right after spawn; at the N-th new line of the daemon's stderr or of logs/events.jsonl; or as
 * the executor of a fresh long-sleeping task starts (its attempt log appears), which leaves it running
 * for the next daemon — that one is killed at its start-up banner, once it has adopted what it found.
 *
 * After every kill: no task in two state directories; nothing dropped is lost; at most one tmux session
 * and one agent process per task; attempts never overlap in time; and every task whose executor was
 * alive at the previous kill still has the same attempt (it was adopted or collected, not relaunched).
 * At the end: all 100 merged exactly once, none failed or parked, and at least one task was adopted and
 * finished on its single attempt.
 *
 * The seed is printed; DAEMON_CRASH_SEED=<n> replays its choices (the timing of a real daemon still
 * varies). Needs `npm run build` first: the daemon runs from dist/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/task.js';
import { git } from '../../src/testing/git.js';
import { scriptedSpec } from '../../src/testing/night.js';
import {
  agentProcesses,
  attemptProblems,
  inboxIds,
  listPanes,
  makeDaemonWorkspace,
  prng,
  readEvents,
  readQueue,
  type DaemonWorkspace,
} from './fixtures/daemon-workspace.js';

const KILLS = 200;
const SPECS = 100;
/** Specs arrive in waves: one every WAVE_EVERY rounds, or sooner when fewer than LOW_WATER can progress. */
const WAVE = 10;
const WAVE_EVERY = 15;
const LOW_WATER = 8;
/** Seconds of sleep that make an executor likely to outlive a daemon restart. */
const LONG_SLEEP = 0.7;
/** An 'executor' kill takes the executor of this launch when no target has come up by then. */
const MAX_WAIT_LAUNCHES = 3;
/** A guard against a daemon that never reaches its kill point, not synchronisation. */
const LIFE_GUARD_MS = 180_000;
const FINAL_GUARD_MS = 600_000;

const BIN = fileURLToPath(new URL('../../bin/nightshift.js', import.meta.url));
const seed = process.env['DAEMON_CRASH_SEED'] ? Number(process.env['DAEMON_CRASH_SEED']) : randomInt(2 ** 31);
console.log('daemon-crash seed', seed);

let ws: DaemonWorkspace | null = null;
/** Ends the current daemon life (kill, watcher, timers): for afterAll when the test fails mid-life. */
let endLife: (() => void) | null = null;
afterAll(() => {
  endLife?.();
  ws?.cleanup();
});

const taskId = (i: number) => `c${String(i).padStart(3, '0')}`;

/**
 * A long task's executor first waits for its release file (`<release>/<id>`), which the test writes as
 * soon as it sees the task start — except for the executor an 'executor' kill is aimed at, which is held
 * until the next daemon has adopted it. Without the hold, adoption was left to chance: on a loaded machine
 * a restarted daemon takes longer to come up than the longest sleep, every executor had exited by then,
 * and the night saw no adoption at all (issue 15: "0 tasks adopted in 134 daemon lives").
 */
function specFor(id: string, sleep: number, release: string): string {
  const wait =
    sleep >= LONG_SLEEP
      ? // Polls a file the test writes; gives up after ~2 minutes so a failed test leaves no executor behind.
        [`sh "i=0; while [ ! -e ${release}/${id} ] && [ $i -lt 6000 ]; do sleep 0.02; i=$((i+1)); done"`]
      : [];
  return scriptedSpec(
    id,
    [`write out/${id}.txt "${id}\\n"`, ...wait, `sleep ${sleep}`, `commit "add ${id}"`, 'exit 0'].join('\n'),
  );
}

/** Where a life of the daemon is killed. */
type KillPoint =
  | { kind: 'spawn' }
  | { kind: 'stderr'; n: number }
  | { kind: 'events'; n: number }
  | { kind: 'executor'; targets: ReadonlySet<string> }
  | { kind: 'started' }
  | { kind: 'never' };

function describeKill(p: KillPoint): string {
  switch (p.kind) {
    case 'spawn':
      return 'killed right after spawn';
    case 'stderr':
      return `killed at stderr line ${p.n}`;
    case 'events':
      return `killed at events.jsonl line ${p.n}`;
    case 'executor':
      return `killed as the executor of one of ${p.targets.size} fresh long tasks (or of launch ${MAX_WAIT_LAUNCHES}) started`;
    case 'started':
      return 'killed at the stderr banner, once started (adoption done)';
    case 'never':
      return 'not killed (--until-idle)';
  }
}

/**
 * Lines a daemon is sure to write from now on: daemon.started and the provider's probe (stderr also has
 * the "pid …" banner), plus what each task that can progress still has ahead of it before `done`.
 */
function guaranteedLines(tasks: Iterable<TaskRecord>, inbox: number): { stderr: number; events: number } {
  let ahead = inbox * 7; // created, accepted, running, review, gates, approved, done
  for (const t of tasks) {
    if (t.state === 'pending') ahead += 5;
    else if (t.state === 'running') ahead += 4;
    else if (t.state === 'review' && !t.parked) ahead += 1;
  }
  return { stderr: 3 + ahead, events: 2 + ahead };
}

function pickKill(
  rand: () => number,
  tasks: Map<string, TaskRecord>,
  inbox: readonly string[],
  sleepOf: ReadonlyMap<string, number>,
): KillPoint {
  const sure = guaranteedLines(tasks.values(), inbox.length);
  // Fresh tasks whose executor should outlive a restart: a kill just after one starts leaves it to the
  // next daemon, which must adopt it on its first and only attempt.
  const fresh = [
    ...inbox,
    ...[...tasks.values()].filter((t) => t.state === 'pending' && !t.attempts.length).map((t) => t.id),
  ];
  const targets = new Set(fresh.filter((id) => (sleepOf.get(id) ?? 0) >= LONG_SLEEP));
  const r = rand();
  // Short lives keep 200 restarts affordable; the executors they leave behind carry the work forward.
  const n = 1 + Math.floor(rand() * 6);
  if (r < 0.35) return { kind: 'spawn' };
  if (r < 0.62) return { kind: 'stderr', n: Math.min(n, sure.stderr) };
  if (r < 0.85 || targets.size === 0) return { kind: 'events', n: Math.min(n, sure.events) };
  return { kind: 'executor', targets };
}

function tally(words: string[]): string {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts].map(([w, n]) => `${n} ${w}`).join(', ') || 'none';
}

interface Life {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

/**
 * Runs one daemon and SIGKILLs it at `point`. The kill is sent from the handler that sees the trigger
 * line (stderr data, or a change of events.jsonl read through fs.watch); resolves once it has exited.
 * Each task seen starting is `release`d, except the executor an 'executor' kill waits for.
 */
function runDaemon(
  w: DaemonWorkspace,
  point: KillPoint,
  release: (id: string) => void,
  args: string[] = [],
): Promise<Life> {
  const started = Date.now();
  const eventsFile = w.paths.events;
  let offset = statSync(eventsFile).size;
  let partial = '';
  let eventLines = 0;
  let launches = 0;
  let waiting: NodeJS.Timeout | null = null; // 'executor': waits for the target's attempt log
  let awaited = '';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '-w', w.root, 'daemon', ...args], {
      env: { ...process.env, NIGHTSHIFT_TMUX_SOCKET: w.socket },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let killed = false;
    const kill = () => {
      if (!killed) child.kill('SIGKILL');
      killed = true;
    };
    if (point.kind === 'spawn') kill();
    const onEventLine = (line: string) => {
      eventLines += 1;
      if (point.kind === 'events' && eventLines >= point.n) kill();
      const e = JSON.parse(line) as {
        type?: string;
        from?: string;
        to?: string;
        task?: string;
        attempt?: number;
      };
      if (e.type !== 'task.transition' || !e.task) return;
      // Every executor that starts is let go at once, but the one an 'executor' kill waits for.
      if (point.kind !== 'executor') {
        if (e.to === 'running') release(e.task);
        return;
      }
      if (waiting && e.from === 'running' && e.task === awaited) {
        // That launch failed before its executor started: look for the next one.
        clearInterval(waiting);
        waiting = null;
      }
      if (e.to !== 'running' || !e.attempt) return;
      if (waiting) return release(e.task);
      launches += 1;
      const target = point.targets.has(e.task) && e.attempt === 1;
      if (!target && launches < MAX_WAIT_LAUNCHES) return release(e.task);
      // The runner script creates the attempt's log as it starts the executor.
      const log = path.join(w.workerDir, 'tasks', e.task, `attempt-${e.attempt}.log`);
      awaited = e.task;
      waiting = setInterval(() => existsSync(log) && kill(), 2);
    };
    const readEventsFile = () => {
      const size = statSync(eventsFile).size;
      if (size <= offset) return;
      const buf = Buffer.alloc(size - offset);
      const fd = openSync(eventsFile, 'r');
      try {
        readSync(fd, buf, 0, buf.length, offset);
      } finally {
        closeSync(fd);
      }
      offset = size;
      partial += buf.toString('utf8');
      for (let nl = partial.indexOf('\n'); nl !== -1; nl = partial.indexOf('\n')) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        onEventLine(line);
      }
    };
    const watcher = watch(eventsFile, () => readEventsFile());
    let stderr = '';
    let stderrLines = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      stderrLines += chunk.split('\n').length - 1;
      if (point.kind === 'stderr' && stderrLines >= point.n) kill();
      // Printed once start() has returned: recovery and adoption are done.
      if (point.kind === 'started' && stderr.includes('nightshift daemon: pid')) kill();
    });
    const guard = setTimeout(
      () => {
        kill();
        reject(
          new Error(`daemon (${describeKill(point)}) still running after its guard\n${stderr.slice(-3000)}`),
        );
      },
      point.kind === 'never' ? FINAL_GUARD_MS : LIFE_GUARD_MS,
    );
    const end = () => {
      clearTimeout(guard);
      if (waiting) clearInterval(waiting);
      watcher.close();
      endLife = null;
    };
    endLife = () => {
      end();
      kill();
    };
    child.on('error', (err) => {
      end();
      reject(err);
    });
    // 'exit', not 'close': never wait on whatever the killed daemon's orphans may still hold open.
    child.on('exit', (code, signal) => {
      end();
      resolve({ code, signal, stderr, ms: Date.now() - started });
    });
  });
}

describe('daemon crash safety (kill -9 of the real daemon process)', () => {
  it(
    `survives ${KILLS} SIGKILLs of the daemon while ${SPECS} specs run, adopting live executors`,
    { timeout: 1_200_000 },
    async () => {
      const t0 = Date.now();
      const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
      ws = makeDaemonWorkspace({
        prefix: 'ns-dcrash',
        hostName: 'local',
        host: '{ kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }',
      });
      const w = ws;
      const workdir = w.workerDir;
      const rand = prng(seed);
      const sleeps = prng(seed ^ 0x2545f491);
      const ids = Array.from({ length: SPECS }, (_, i) => taskId(i));
      const sleepOf = new Map(ids.map((id) => [id, Math.round(sleeps() * 100) / 100]));
      const releaseDir = path.join(w.root, 'release');
      mkdirSync(releaseDir);
      const released = new Set<string>();
      const release = (id: string): void => {
        if (released.has(id) || (sleepOf.get(id) ?? 0) < LONG_SLEEP) return;
        released.add(id);
        writeFileSync(path.join(releaseDir, id), '');
      };
      // events.jsonl exists from the start, so it can be watched before the first daemon writes to it.
      mkdirSync(w.paths.logs, { recursive: true });
      writeFileSync(w.paths.events, '', { flag: 'a', mode: 0o600 });

      let dropped = 0;
      const kindsSeen: string[] = [];
      const msByKind = new Map<string, number>();
      const stats = { interruptedMoves: 0, aliveAtKill: 0, agentsAtKill: 0, killMs: 0 };
      /** Tasks whose executor was alive at the last kill, with their attempt count then. */
      let alive = new Map<string, number>();

      const check = (where: string): Map<string, TaskRecord> => {
        const q = readQueue(w.paths);
        const inbox = new Set(inboxIds(w.paths));
        const problems = [...q.problems];
        const expected = new Set(ids.slice(0, dropped));
        for (const id of q.tasks.keys()) if (!expected.has(id)) problems.push(`unexpected task ${id}`);
        for (const id of expected) if (!q.tasks.has(id) && !inbox.has(id)) problems.push(`${id} is lost`);
        for (const t of q.tasks.values()) problems.push(...attemptProblems(t));
        const panes = listPanes(w.executorSocket);
        const sessions = new Map<string, number>();
        for (const p of panes) sessions.set(p.session, (sessions.get(p.session) ?? 0) + 1);
        for (const [s, n] of sessions) if (n > 1) problems.push(`session ${s} has ${n} panes`);
        for (const [id, pids] of agentProcesses(workdir))
          if (pids.length > 1) {
            // Who they are, for whoever debugs this: parents, start times, the task's attempts.
            const ps = spawnSync('ps', ['-o', 'pid,ppid,pgid,lstart,args', '-p', pids.join(',')], {
              encoding: 'utf8',
            }).stdout;
            const attempts = (q.tasks.get(id)?.attempts ?? []).map(
              (a) => `${a.n}:${a.outcome}:${a.code ?? ''}@${a.startedAt}`,
            );
            problems.push(
              `${id} has ${pids.length} executors at once (pids ${pids.join(', ')})\n${ps}attempts ${attempts.join(' ')}`,
            );
          }
        // Executors alive at the last kill are adopted (or collected), never started again.
        for (const [id, n] of alive) {
          const attempts = q.tasks.get(id)?.attempts ?? [];
          if (attempts.length !== n || attempts[n - 1]?.outcome === 'lost')
            problems.push(
              `${id}: its executor (attempt ${n}) was alive at the last kill, now ${attempts.map((a) => `${a.n}:${a.outcome}`).join(', ')}`,
            );
        }
        alive = new Map();
        for (const p of panes) {
          const id = p.session.replace(/^ns-[0-9a-f]{8}_/, '');
          const t = q.tasks.get(id);
          if (!p.dead && t?.state === 'running') alive.set(id, t.attempts.length);
        }
        stats.aliveAtKill += alive.size;
        stats.agentsAtKill += [...agentProcesses(workdir).values()].length;
        stats.interruptedMoves += q.interruptedMoves.length;
        expect(problems, where).toEqual([]);
        return q.tasks;
      };

      let tasks = new Map<string, TaskRecord>();
      for (let round = 1; round <= KILLS; round++) {
        const inbox = inboxIds(w.paths).length;
        const open = [...tasks.values()].filter((t) =>
          ['pending', 'running', 'review'].includes(t.state),
        ).length;
        if (dropped < SPECS && (round % WAVE_EVERY === 1 || open + inbox < LOW_WATER)) {
          for (const id of ids.slice(dropped, dropped + WAVE))
            w.dropSpec(id, specFor(id, sleepOf.get(id)!, releaseDir));
          dropped = Math.min(SPECS, dropped + WAVE);
        }
        // After an executor was left running, the next daemon lives at least until it has adopted it.
        const point: KillPoint =
          kindsSeen.at(-1) === 'executor'
            ? { kind: 'started' }
            : pickKill(rand, tasks, inboxIds(w.paths), sleepOf);
        const life = await runDaemon(w, point, release);
        const where = `seed ${seed}, round ${round} (${describeKill(point)})`;
        expect(
          life.signal,
          `${where}: the daemon exited with ${life.code}\n${life.stderr.slice(-3000)}`,
        ).toBe('SIGKILL');
        kindsSeen.push(point.kind);
        stats.killMs += life.ms;
        msByKind.set(point.kind, (msByKind.get(point.kind) ?? 0) + life.ms);
        tasks = check(where);
        // Every executor that has started goes on, but the one just left for the next daemon to adopt.
        for (const t of tasks.values())
          if (t.attempts.length && !(point.kind === 'executor' && alive.has(t.id))) release(t.id);
        if (round % 50 === 0)
          console.log(
            `round ${round}, ${secs(Date.now() - t0)}: ${tally([...tasks.values()].map((t) => t.state))}`,
          );
      }
      const killsDone = Date.now();
      const doneBeforeFinal = [...tasks.values()].filter((t) => t.state === 'done').length;

      // Whatever was not dropped yet goes in now; the last daemon runs until nothing can progress.
      for (const id of ids.slice(dropped)) w.dropSpec(id, specFor(id, sleepOf.get(id)!, releaseDir));
      dropped = SPECS;
      for (const id of ids) release(id);
      const last = await runDaemon(w, { kind: 'never' }, release, ['--until-idle']).catch((err: Error) => {
        // What kept it from going idle.
        const open = [...readQueue(w.paths).tasks.values()].filter((t) => t.state !== 'done');
        const why = open.map(
          (t) =>
            `${t.id} ${t.state}${t.parked ? ` parked ${t.parked}` : ''}; attempts ${t.attempts.map((a) => `${a.n}:${a.outcome}`).join(' ')}; last: ${t.history.at(-1)?.reason ?? ''}`,
        );
        throw new Error(`${err.message}\nnot done:\n${why.join('\n')}`);
      });
      expect(last.code, `the final daemon: ${last.signal ?? ''}\n${last.stderr.slice(-3000)}`).toBe(0);
      tasks = check('after the final --until-idle daemon');

      const events = readEvents(w.paths);
      const adoptions = events.filter((e) => e['type'] === 'task.adopted');
      const adopted = new Set(adoptions.map((e) => String(e['task'])));
      const adoptedOnce = [...adopted].filter((id) => tasks.get(id)?.attempts.length === 1);
      const attempts = [...tasks.values()].flatMap((t) => t.attempts);
      const cut = attempts.filter((a) => a.outcome !== 'exited');
      console.log(
        [
          `seed ${seed}: ${KILLS} kills (${tally(kindsSeen)}) in ${secs(killsDone - t0)}`,
          `${Math.round(stats.killMs / KILLS)} ms a life (${[...msByKind].map(([k, ms]) => `${k} ${secs(ms)}`).join(', ')}); ${events.filter((e) => e['type'] === 'daemon.started').length} daemon starts`,
          `${doneBeforeFinal} of ${SPECS} done before the final daemon, which took ${secs(last.ms)}`,
          `${adopted.size} tasks adopted (${adoptions.length} adoptions), ${adoptedOnce.length} of them on their only attempt`,
          `executors alive at a kill: ${stats.aliveAtKill} sessions, ${stats.agentsAtKill} with an agent process`,
          `${attempts.length} attempts, ${cut.length} cut short (${tally(cut.map((a) => a.code ?? a.outcome))})`,
          `${stats.interruptedMoves} interrupted moves seen; total ${secs(Date.now() - t0)}`,
        ].join('; '),
      );

      // 0 lost, every task merged.
      expect([...tasks.keys()].sort()).toEqual(ids);
      const unfinished = [...tasks.values()].filter((t) => t.state !== 'done');
      for (const t of unfinished)
        console.log(
          `${t.id} ended ${t.state}${t.parked ? ` (parked: ${t.parked})` : ''}: ${t.failure?.reason ?? t.history.at(-1)?.reason}`,
        );
      expect(unfinished.map((t) => `${t.id} ${t.state}`)).toEqual([]);
      // Merged exactly once: one commit per task on main, every file there.
      const subjects = git(w.repo, 'log', '--format=%s', 'main').split('\n');
      const twice = ids.filter((id) => subjects.filter((s) => s === `add ${id}`).length !== 1);
      expect(twice, 'tasks not merged exactly once').toEqual([]);
      expect(git(w.repo, 'ls-tree', '--name-only', 'main', 'out/').split('\n').sort()).toEqual(
        ids.map((id) => `out/${id}.txt`),
      );
      // Adoption was exercised: some executor outlived its daemon and finished on its one attempt.
      expect(adoptedOnce.length, 'tasks adopted and finished on their single attempt').toBeGreaterThan(0);
      expect(listPanes(w.executorSocket).filter((p) => !p.dead)).toEqual([]);
      expect(existsSync(w.paths.lock), 'the final daemon released the lock').toBe(false);
    },
  );
});
