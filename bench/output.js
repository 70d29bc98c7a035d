// Big-output benchmark (issue 12, "bounded output"), on the compiled code in dist/ (`npm run build` first;
// `npm run bench` does). One scripted executor prints BENCH_OUTPUT_MB (100) MB in one go; the daemon
// mirrors it to logs/<id>/attempt-1.log. The figure is the daemon's peak RSS: the daemon runs in a
// child process of its own (`node bench/output.js --daemon <root> <socket>`) until idle, and reports
// VmHWM (/proc/self/status) before the executor starts and at the end, the mirrored log's size and the
// cut. Informational: no goal, since RSS depends on the machine; docs/benchmarks.md has the figures.
//   BENCH_OUTPUT_MB=100   executor output, MiB
//   BENCH_OUTPUT_CAP=     defaults.logCap (unset: the default; leave unset for code without logCap)
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../dist/config/load.js';
import { workspacePaths } from '../dist/config/paths.js';
import {
  benchWorkspace,
  configText,
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
const MB = Number(process.env['BENCH_OUTPUT_MB'] ?? 100);
const CAP = process.env['BENCH_OUTPUT_CAP'];

function spec() {
  return [
    '---',
    'id: loud',
    'title: An executor that prints a lot',
    'tests: [test_loud]',
    'stop: Stop when the script ends.',
    '---',
    'Task loud: follow the script below exactly; it is a simulated agent run for the output benchmark.',
    '',
    '```nightshift-script',
    `sh "echo FIRST; yes 'a line of executor output, the same again and again' | head -c ${MB * 2 ** 20}; echo; echo LAST"`,
    'write loud.txt "loud\\n"',
    'commit "loud"',
    '```',
    '',
  ].join('\n');
}

const hwmMB = () =>
  Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

// ---- the daemon side (child process) ---------------------------------------------------------

async function daemonMain(root, socket) {
  const paths = workspacePaths(root);
  const config = loadConfig(paths);
  const sup = makeSupervisor({ paths, config }, socket, { log: () => undefined });
  let cutBytes = null;
  sup.events.subscribe((e) => {
    if (e.type === 'attempt.log-cut') cutBytes = e.cutBytes;
  });
  // Settle first (probes answered), so the baseline is the daemon's own.
  const { store } = sup;
  await sup.start();
  const deadline = performance.now() + 120_000;
  while (![...sup.fleet.health.values()].every((h) => h.lastProbe && !h.probeInFlight) || sup.ticking) {
    if (performance.now() > deadline) throw new Error('the daemon did not settle in 120 s');
    await sleep(50);
  }
  const before = hwmMB();
  const t0 = performance.now();
  await sup.untilIdle();
  const seconds = (performance.now() - t0) / 1000;
  const after = hwmMB();
  const task = store.get('loud');
  await sup.stop('bench done');
  const logFile = paths.attemptLog('loud', 1);
  process.stdout.write(
    `${JSON.stringify({
      before,
      after,
      seconds,
      state: task.state,
      logBytes: statSync(logFile, { throwIfNoEntry: false })?.size ?? 0,
      cutBytes,
    })}\n`,
  );
}

function runDaemon(root, socket) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, '--daemon', root, socket], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`output daemon exited ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)));
      } catch (err) {
        reject(new Error(`output daemon printed no result (${err}): ${out}`));
      }
    });
  });
}

// ---- the bench side -------------------------------------------------------------------------

export async function run() {
  const rows = [];
  const row = rowWriter(rows, 'output');
  const cleanups = [];
  try {
    const { repo, root, socket } = benchWorkspace('output', cleanups);
    const rest = ['architect: { mode: manual }'];
    if (CAP) rest.push(`defaults: { logCap: ${CAP} }`);
    const { enqueue } = openWorkspace(
      root,
      configText(repo, ['  p: { kind: scripted, hosts: [local] }'], rest),
    );
    enqueue('loud', spec());
    log(`output: an executor prints ${MB} MiB; the daemon runs until idle`);
    const r = await runDaemon(root, socket);
    log(`output: ${JSON.stringify(r)}`);
    row('daemon peak RSS before the output', round(r.before), 'MB');
    row('daemon peak RSS at the end', round(r.after), 'MB');
    row('executor output', MB, 'MiB');
    row('mirrored log', round(r.logBytes / 2 ** 20), 'MiB');
    row('bytes left out', r.cutBytes ?? 0, 'B');
    row('attempt to idle', round(r.seconds), 's');
  } finally {
    await runCleanups(cleanups, 'output');
  }
  return rows;
}

if (process.argv[2] === '--daemon') {
  await daemonMain(process.argv[3], process.argv[4]);
} else {
  await runIfMain(import.meta.url, run);
}
