// Idle daemon benchmark (issue 4), on the compiled code in dist/ (`npm run build` first; `npm run bench`
// does). 10,000 pending specs that cannot run, and a Supervisor that should cost (almost) nothing while it
// waits. The specs are enqueued directly (parseSpec + QueueStore.enqueue) before the daemon starts.
//
// The daemon runs in a child process of its own (`node bench/idle.js --daemon <root> <socket>`), so the
// figures are the daemon's and not the bench's: it starts the Supervisor (watching the workspace, as the
// real daemon does), waits until it has settled (start() returned, every provider probed once, no tick
// running, then 2 s more), and measures over 30 s: RSS (process.memoryUsage().rss every 500 ms, peak),
// CPU (process.cpuUsage delta / wall, and from /proc/self/stat with the children it spawned and waited
// for), and what it did: ticks and processes spawned per minute (Supervisor.activitySoFar, the counts
// behind the daemon.activity event; issue 17 wants them near zero). Goals are issue 17's. Two scenarios
// on the same 10,000 tasks, one daemon each:
//   frozen: providers alpha and bravo (scripted, healthy), both frozen with the per-provider toggle;
//   dead:   a single provider `dead` (scripted, probe answers nothing): its breaker stays open and a
//           half-open probe runs after 15-30 s (the default 30 s → 15 min schedule), then 30-60 s.
// `export async function run()` returns rows {bench, metric, value, unit, goal} for bench/run.js.
//   BENCH_IDLE_SPECS=10000   pending specs
//   BENCH_IDLE_WINDOW_S=30   measurement window
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../dist/config/load.js';
import { workspacePaths } from '../dist/config/paths.js';
import { ToggleStore } from '../dist/queue/toggles.js';
import {
  benchWorkspace,
  configText,
  loadavg,
  log,
  makeSupervisor,
  openWorkspace,
  round,
  rowWriter,
  runCleanups,
  runIfMain,
  sleep,
} from './lib.js';

const SELF = fileURLToPath(import.meta.url);
const SPECS = Number(process.env['BENCH_IDLE_SPECS'] ?? 10_000);
const WINDOW_MS = Number(process.env['BENCH_IDLE_WINDOW_S'] ?? 30) * 1000;
const SETTLE_MS = 2000;
// Issue 17: RSS ≤ 100 MB, CPU ≤ 0.3 %, and near-zero ticks per minute while nothing happens (the dead
// provider's half-open probe is one tick when its result comes, at 30 s, 1 min, 2 min … 15 min).
const GOALS = { rssMB: 100, cpuPct: 0.3, ticksPerMin: 2, spawnedPerMin: 2 };
/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;
const SCENARIOS = {
  frozen: {
    providers: [
      '  alpha: { kind: scripted, hosts: [local], concurrency: 2 }',
      '  bravo: { kind: scripted, hosts: [local], concurrency: 2 }',
    ],
    frozen: ['alpha', 'bravo'],
  },
  dead: {
    providers: ['  dead: { kind: scripted, hosts: [local], concurrency: 2, scripted: { probe: silent } }'],
    frozen: [],
  },
};

function scenarioConfig(repo, scenario) {
  return configText(repo, SCENARIOS[scenario].providers, ['architect: { mode: gates }']);
}

function specText(i) {
  const id = `idle-${String(i).padStart(5, '0')}`;
  return {
    id,
    text: [
      '---',
      `id: ${id}`,
      `title: Idle task ${i}`,
      `priority: ${i % 5}`,
      'tests: [test_idle]',
      'stop: Stop when the script ends.',
      '---',
      `Task ${id}: follow the script below exactly; it is a simulated agent run for the idle benchmark.`,
      '',
      '```nightshift-script',
      `write out/${id}.txt "${id}\\n"`,
      `commit "${id}"`,
      '```',
      '',
    ].join('\n'),
  };
}

/** CPU ms of this process and of the children it waited for (utime, stime, cutime, cstime), or NaN. */
function procCpuMs() {
  try {
    // The fields after the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime is field 14, so f[11]; stime f[12]; cutime f[13]; cstime f[14].
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / USER_HZ;
  } catch {
    return NaN;
  }
}

/** VmRSS and VmHWM (MB) of a process, from /proc. */
function procMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

// ---- the daemon side (child process) ---------------------------------------------------------

async function daemonMain(root, socket) {
  const paths = workspacePaths(root);
  const config = loadConfig(paths);
  const t0 = performance.now();
  const sup = makeSupervisor({ paths, config }, socket, { log: () => undefined });
  let events = 0;
  sup.events.subscribe(() => {
    events += 1;
  });
  await sup.start();
  const startMs = performance.now() - t0;
  const deadline = performance.now() + 120_000;
  const probed = () => [...sup.fleet.health.values()].every((h) => h.lastProbe && !h.probeInFlight);
  while (!probed() || sup.ticking) {
    if (performance.now() > deadline) throw new Error('the daemon did not settle in 120 s');
    await sleep(50);
  }
  const settledMs = performance.now() - t0;
  await sleep(SETTLE_MS);
  const rss = [];
  const sample = () => rss.push(process.memoryUsage().rss / 2 ** 20);
  events = 0;
  const act0 = sup.activitySoFar();
  const proc0 = procCpuMs();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  sample();
  const sampler = setInterval(sample, 500);
  await sleep(WINDOW_MS);
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - w0;
  const proc1 = procCpuMs();
  const act1 = sup.activitySoFar();
  const wakes = Object.fromEntries(
    Object.entries(act1.wakes)
      .map(([k, n]) => [k, n - (act0.wakes[k] ?? 0)])
      .filter(([, n]) => n > 0),
  );
  sample();
  const result = {
    startMs,
    settledMs,
    windowMs: wall,
    rssPeakMB: Math.max(...rss),
    rssMeanMB: rss.reduce((a, b) => a + b, 0) / rss.length,
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    cpuWithChildrenPct: ((proc1 - proc0) / wall) * 100,
    ticks: act1.ticks - act0.ticks,
    spawned: act1.spawned - act0.spawned,
    wakes,
    events,
    heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20,
    pending: sup.store.list().filter((t) => t.state === 'pending').length,
    breakers: Object.fromEntries([...sup.fleet.health].map(([n, h]) => [n, h.breaker])),
  };
  await sup.stop('bench done');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Runs one scenario's daemon in a child; also watches its /proc entry. */
function runDaemon(root, socket) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, '--daemon', root, socket], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let hwm = 0;
    const watch = setInterval(() => {
      const m = procMemory(child.pid);
      if (m) hwm = Math.max(hwm, m.hwm);
    }, 250);
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(watch);
      if (code !== 0) return reject(new Error(`idle daemon exited ${code}`));
      try {
        resolve({ ...JSON.parse(out.trim().split('\n').at(-1)), hwmMB: hwm });
      } catch (err) {
        reject(new Error(`idle daemon printed no result (${err}): ${out}`));
      }
    });
  });
}

// ---- the bench side -------------------------------------------------------------------------

export async function run() {
  const rows = [];
  const cleanups = [];
  try {
    const { repo, root, socket } = benchWorkspace('idle', cleanups);
    const { paths, enqueue } = openWorkspace(root, scenarioConfig(repo, 'frozen'));
    log(`idle: enqueueing ${SPECS} specs`);
    const e0 = performance.now();
    for (let i = 0; i < SPECS; i++) {
      const { id, text } = specText(i);
      enqueue(id, text);
    }
    log(`idle: enqueued in ${round((performance.now() - e0) / 1000)} s`);
    const toggles = new ToggleStore(paths);
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      writeFileSync(paths.configFile, scenarioConfig(repo, name), { mode: 0o600 });
      for (const p of ['alpha', 'bravo', 'dead']) toggles.setFrozen(scenario.frozen.includes(p), p);
      const load0 = loadavg();
      log(`idle: ${name}: starting the daemon, then ${WINDOW_MS / 1000} s of measurement`);
      const r = await runDaemon(root, socket);
      const load1 = loadavg();
      if (r.pending !== SPECS) throw new Error(`${name}: ${r.pending} pending, expected ${SPECS}`);
      const row = rowWriter(rows, 'idle', `${name}: `);
      row(
        `RSS peak over ${WINDOW_MS / 1000} s (${SPECS} pending)`,
        round(r.rssPeakMB),
        'MB',
        `<= ${GOALS.rssMB}`,
      );
      row(`CPU over ${WINDOW_MS / 1000} s (cpuUsage / wall)`, round(r.cpuPct, 2), '%', `<= ${GOALS.cpuPct}`);
      row(
        'CPU with the processes it spawned (/proc/self/stat, 10 ms ticks)',
        round(r.cpuWithChildrenPct, 2),
        '%',
        `<= ${GOALS.cpuPct}`,
      );
      const perMin = (n) => round((n * 60_000) / r.windowMs, 1);
      row('ticks per minute while idle', perMin(r.ticks), '/min', `<= ${GOALS.ticksPerMin}`);
      row('processes spawned per minute while idle', perMin(r.spawned), '/min', `<= ${GOALS.spawnedPerMin}`);
      row(`what woke the ticks: ${JSON.stringify(r.wakes)}`, '', '');
      // A dead provider's window holds its first half-open probe (15–30 s after start); later ones come
      // 30 s, 1 min, 2 min … 15 min apart, so over a night the rate falls to the last line's.
      const probes = r.wakes.probe ?? 0;
      if (probes > 0) {
        row(
          'per half-open probe: ticks / processes spawned',
          `${round(r.ticks / probes, 1)} / ${round(r.spawned / probes, 1)}`,
          '',
        );
        row('ticks per minute at the 15 min probe backoff', round(r.ticks / probes / 15, 2), '/min');
      }
      row('RSS high-water mark incl. start-up (VmHWM)', round(r.hwmMB), 'MB');
      row('heap used at the end', round(r.heapUsedMB), 'MB');
      row('start() returned / settled after', `${round(r.startMs, 0)} / ${round(r.settledMs, 0)}`, 'ms');
      row('ticks / events in the window', `${r.ticks} / ${r.events}`, '');
      row(`breakers: ${JSON.stringify(r.breakers)}`, '', '');
      row('load average 1 min: start → end', `${round(load0, 2)} → ${round(load1, 2)}`, '');
    }
    return rows;
  } finally {
    await runCleanups(cleanups, 'idle');
  }
}

if (process.argv[2] === '--daemon') {
  await daemonMain(process.argv[3], process.argv[4]);
} else {
  await runIfMain(import.meta.url, run);
}
