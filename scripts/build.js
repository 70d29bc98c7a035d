// `npm run build` (and npm's `prepare`, which `npm install` runs): compiles src/ into dist/ in four steps,
// each announced with a line and ended with its time, so that the ~minute of `npm install` that is ours
// shows what it is doing. A step that runs longer than HEARTBEAT_MS says it is still at work.
//
// `--if-stale` (what `prepare` passes) skips the build when dist/ was built from the sources as they are
// now: no file under src/ or scripts/, no tsconfig, package.json or package-lock.json changed after the
// last build started (dist/.build-stamp). Why: inside a clone, `npx nightshift` does not run
// node_modules/.bin/nightshift. npm's exec (libnpmexec) sees that the project's own package.json has a
// `nightshift` bin, links the project into the npx cache (~/.npm/_npx/<hash>/node_modules/nightshift)
// and runs the link's `prepare`, which rebuilt everything (~30 s behind a bare spinner) on the first
// `npx nightshift demo` after `npm install`. With the stamp current, that `prepare` takes a moment.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = path.join(ROOT, 'dist', '.build-stamp');
const HEARTBEAT_MS = 10_000;
const INPUT_DIRS = ['src', 'scripts'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

const STEPS = [
  {
    what: 'compile TypeScript (tsc: src/ → dist/)',
    argv: () => [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  },
  { what: 'copy the host scripts', argv: ['scripts/copy-host-scripts.js'] },
  { what: 'patch Ink', argv: ['scripts/patch-ink.js'] },
  { what: 'bundle the TUI (rolldown)', argv: ['scripts/bundle-tui.js'] },
];

/** The newest modification time (ms) among the build's inputs. */
export function newestInput(root = ROOT) {
  let newest = 0;
  const visit = (p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const d of INPUT_DIRS) visit(path.join(root, d));
  for (const f of INPUT_FILES) visit(path.join(root, f));
  return newest;
}

/** When the last complete build started (ms), or null when there is none. */
export function lastBuildStart(root = ROOT) {
  try {
    const started = Number(JSON.parse(readFileSync(path.join(root, 'dist', '.build-stamp'), 'utf8')).started);
    return Number.isFinite(started) ? started : null;
  } catch {
    return null;
  }
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

function runStep(step, index) {
  const say = (line) => process.stdout.write(`nightshift build ${index + 1}/${STEPS.length}: ${line}\n`);
  say(`${step.what}…`);
  const t0 = Date.now();
  const beat = setInterval(
    () => say(`${step.what}: still working (${seconds(Date.now() - t0)})`),
    HEARTBEAT_MS,
  );
  return new Promise((resolve, reject) => {
    const argv = typeof step.argv === 'function' ? step.argv() : step.argv;
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(beat);
      if (code === 0) {
        say(`${step.what}: done in ${seconds(Date.now() - t0)}`);
        resolve();
      } else reject(new Error(`nightshift build: "${step.what}" failed (${signal ?? `exit ${code}`})`));
    });
  });
}

async function main() {
  const ifStale = process.argv.includes('--if-stale');
  const started = Date.now();
  const last = lastBuildStart();
  if (ifStale && last !== null && newestInput() < last) {
    process.stdout.write(
      'nightshift build: dist/ is up to date with src/ (dist/.build-stamp); nothing to do\n',
    );
    return;
  }
  for (const [i, step] of STEPS.entries()) await runStep(step, i);
  mkdirSync(path.dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${JSON.stringify({ started })}\n`);
  process.stdout.write(`nightshift build: done in ${seconds(Date.now() - started)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
