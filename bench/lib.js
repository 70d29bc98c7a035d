// Set-up, clean-up and reporting shared by the benches (night, idle, judgment, dispatch), on the compiled
// code in dist/. Not a bench itself: it exports no run(), so bench/run.js skips it.
//   cleanups      every bench keeps a list of async clean-up steps and runs it in reverse at the end
//                 (runCleanups); the helpers that make temp dirs, repos and tmux sockets push onto it.
//   workspace     benchWorkspace (repo + root + tmux socket), configText, openWorkspace, makeSupervisor,
//                 untilIdle: an in-process Supervisor on a scratch workspace, on the local host.
//   sshd          startSshd: a throwaway OpenSSH server on 127.0.0.1 (as src/testing/sshd.ts, which is not
//                 compiled into dist/).
//   rows          rowWriter and runIfMain: the {bench, metric, value, unit, goal} rows bench/run.js reads,
//                 printed one JSON line each when a bench runs alone.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../dist/config/load.js';
import { workspacePaths } from '../dist/config/paths.js';
import { Supervisor } from '../dist/daemon/supervisor.js';
import { executorSocketPath } from '../dist/hosts/layout.js';
import { buildHosts } from '../dist/hosts/registry.js';
import { LocalRunner } from '../dist/hosts/runner.js';
import { systemClock } from '../dist/lib/clock.js';
import { QueueStore } from '../dist/queue/store.js';
import { parseSpec } from '../dist/spec/parse.js';

export const SSHD = '/usr/sbin/sshd';
export const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};

// ---- small helpers --------------------------------------------------------------------------

export const log = (line) => console.error(line);
export const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The 1-minute load average. */
export const loadavg = () => os.loadavg()[0];

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---- temp dirs, git, tmux -------------------------------------------------------------------

/** A fresh dir under the OS temp dir, removed by `cleanups`. */
export function tempDir(prefix, cleanups) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function git(cwd, ...args) {
  return execFileSync('git', ['-C', cwd, ...args], { env: GIT_ENV, encoding: 'utf8' }).trim();
}

/** A repo with one commit on main: a README, plus `srcFiles` small files under src/. */
export function makeRepo(prefix, cleanups, { srcFiles = 0 } = {}) {
  const dir = tempDir(prefix, cleanups);
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(dir, 'README.md'), '# app\n');
  if (srcFiles > 0) {
    mkdirSync(path.join(dir, 'src'));
    for (let i = 0; i < srcFiles; i++)
      writeFileSync(path.join(dir, 'src', `m${i}.js`), `export const m${i} = ${i};\n`);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

export async function killTmux(socket) {
  await new LocalRunner().run(['tmux', '-L', socket, 'kill-server']);
  // tmux 3.3 leaves the socket file behind.
  const dir = path.join(process.env['TMUX_TMPDIR'] || '/tmp', `tmux-${process.getuid?.() ?? 0}`);
  rmSync(path.join(dir, socket), { force: true });
}

/** A tmux socket name of this process's own (ns-bench-<name>-<pid>); its server is killed by `cleanups`. */
export function tmuxSocket(name, cleanups) {
  const socket = `ns-bench-${name}-${process.pid}`;
  cleanups.push(() => killTmux(socket));
  return socket;
}

/** Runs `cleanups` last first; a failing step is logged (`<bench>: cleanup failed: …`), not thrown. */
export async function runCleanups(cleanups, bench) {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      log(`${bench}: cleanup failed: ${err}`);
    }
  }
}

// ---- a Supervisor on a scratch workspace ----------------------------------------------------

/** The repo (ns-bench-<name>-repo-*), the workspace root (ns-bench-<name>-*) and the tmux socket. */
export function benchWorkspace(name, cleanups) {
  const repo = makeRepo(`ns-bench-${name}-repo-`, cleanups);
  const root = tempDir(`ns-bench-${name}-`, cleanups);
  const socket = tmuxSocket(name, cleanups);
  // The executors' server listens under the local host's workdir (hosts/layout.ts), not on `-L socket`.
  cleanups.push(() =>
    new LocalRunner().run([
      'tmux',
      '-S',
      executorSocketPath(path.join(root, 'hosts', 'local'), socket),
      'kill-server',
    ]),
  );
  return { repo, root, socket };
}

/** nightshift.config.yaml: repo `app`, the host `local` (never too busy), `providers`, then `rest`. */
export function configText(repo, providers, rest = []) {
  return [
    'repos:',
    `  app: { path: ${JSON.stringify(repo)}, main: main }`,
    'hosts:',
    '  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }',
    'providers:',
    ...providers,
    ...rest,
    '',
  ].join('\n');
}

/** Writes the config into `root`, lays out the queue; `enqueue(id, text)` adds one spec, pending. */
export function openWorkspace(root, text) {
  const paths = workspacePaths(root);
  writeFileSync(paths.configFile, text, { mode: 0o600 });
  const config = parseConfig(text, paths.configFile);
  const store = new QueueStore(paths, systemClock);
  store.ensureLayout();
  const enqueue = (id, spec) => store.enqueue(parseSpec(Buffer.from(spec), { file: `${id}.md`, config }));
  return { paths, config, store, enqueue };
}

/** An in-process Supervisor on the workspace, its local host on `socket`; pollMs and log are optional. */
export function makeSupervisor({ paths, config }, socket, { pollMs, log } = {}) {
  return new Supervisor({
    paths,
    config,
    clock: systemClock,
    env: { ...process.env },
    hosts: buildHosts(config, paths, { tmuxSocket: socket }),
    ...(pollMs !== undefined ? { pollMs } : {}),
    ...(log !== undefined ? { log } : {}),
  });
}

/** Waits for sup.untilIdle(), failing with `<what> after <s> s` after timeoutMs. */
export async function untilIdle(sup, timeoutMs, cleanups, what = 'not idle') {
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} after ${timeoutMs / 1000} s`)), timeoutMs);
  });
  cleanups.push(() => clearTimeout(timer));
  await Promise.race([sup.untilIdle(), timedOut]);
}

// ---- a throwaway sshd -----------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function banner(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('SSH-')));
    socket.on('error', () => done(false));
  });
}

/**
 * A throwaway sshd on 127.0.0.1, as src/testing/sshd.ts starts it for the e2e suite (src/testing is not
 * compiled into dist/). `loadShellRc` false sets SHLVL=1 so bash skips ~/.bashrc, as the tests do.
 */
export async function startSshd({ loadShellRc }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-bench-sshd-'));
  try {
    mkdirSync('/run/sshd', { recursive: true });
  } catch {
    // not root
  }
  for (const name of ['host', 'user']) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, name)], {
      stdio: 'ignore',
    });
  }
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'user.pub')), { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${path.join(dir, 'host')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'StrictModes no',
      'PasswordAuthentication no',
      'PermitRootLogin yes',
      'MaxSessions 100',
      ...(loadShellRc ? [] : ['SetEnv SHLVL=1']),
      '',
    ].join('\n'),
  );
  const [type, key] = readFileSync(path.join(dir, 'host.pub'), 'utf8').trim().split(/\s+/);
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${type} ${key}\n`);
  const child = spawn(SSHD, ['-D', '-f', config, '-E', path.join(dir, 'sshd.log')], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await banner(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd did not start: ${readFileSync(path.join(dir, 'sshd.log'), 'utf8')}`);
    }
    await sleep(25);
  }
  const user = os.userInfo().username;
  return {
    target: (name) => ({
      name,
      destination: `${user}@127.0.0.1`,
      port,
      identityFile: path.join(dir, 'user'),
      controlDir: path.join(dir, `cm-${name}`),
      extraOptions: [`UserKnownHostsFile=${knownHosts}`, 'StrictHostKeyChecking=yes'],
    }),
    stop: async () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- rows -----------------------------------------------------------------------------------

/** `row(metric, value, unit, goal = '')` appends {bench, metric: prefix + metric, value, unit, goal} to rows. */
export function rowWriter(rows, bench, prefix = '') {
  return (metric, value, unit, goal = '') =>
    rows.push({ bench, metric: `${prefix}${metric}`, value, unit, goal });
}

/** When the bench file at `url` is the script node was started with: runs it and prints one JSON line a row. */
export async function runIfMain(url, run) {
  if (process.argv[1] && url === pathToFileURL(process.argv[1]).href) {
    for (const r of await run()) console.log(JSON.stringify(r));
  }
}
