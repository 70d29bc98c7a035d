// The peer of the TUI bench: ccmanager (https://github.com/kbwo/ccmanager), an Ink TUI for Claude Code
// sessions, installed with npm on demand into a cache outside the repo (never a dependency of ours):
// `npm install --prefix <dir> ccmanager @kodaikabasawa/ccmanager-<platform>-<arch>`, <dir> being
// $BENCH_TUI_CCMANAGER_PREFIX or ~/.cache/nightshift-bench/ccmanager. Two ways to run it:
//   binary  what its `bin` runs on Linux: a Bun-compiled binary from the per-platform package (its newest
//           release there; the registry may hold an older `ccmanager`) — what a user of it starts;
//   node    its published JavaScript, `dist/cli.js`, on the same Node as nightshift — the same runtime and
//           the same Ink, unbundled.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CC_PREFIX =
  process.env['BENCH_TUI_CCMANAGER_PREFIX'] ??
  path.join(os.homedir(), '.cache', 'nightshift-bench', 'ccmanager');

const PLATFORM_PACKAGE = `@kodaikabasawa/ccmanager-${process.platform}-${process.arch}`;

function install(pkg, log) {
  log(`tui: installing ${pkg} into ${CC_PREFIX} (npm install --prefix …; not a dependency of nightshift)`);
  mkdirSync(CC_PREFIX, { recursive: true });
  const res = spawnSync('npm', ['install', '--prefix', CC_PREFIX, '--no-audit', '--no-fund', pkg], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return (
    (res.error?.message ?? res.stderr ?? '').trim().split('\n').slice(-2).join(' ') ||
    `npm exited ${res.status}`
  );
}

function versionOf(pkgDir) {
  try {
    return JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

/**
 * The two ways to run ccmanager, installing what is missing first: each { label, argv } or
 * { label, error } saying why it cannot run (no network, no package for this platform).
 */
export function ccmanagerPeers(log) {
  const peers = [];
  const binDir = path.join(CC_PREFIX, 'node_modules', ...PLATFORM_PACKAGE.split('/'));
  const bin = path.join(binDir, 'bin', 'ccmanager');
  let why = existsSync(bin) ? null : install(PLATFORM_PACKAGE, log);
  peers.push(
    existsSync(bin)
      ? { label: `ccmanager ${versionOf(binDir)} (its binary)`, argv: [bin] }
      : { label: 'ccmanager (its binary)', error: `${PLATFORM_PACKAGE} could not be installed: ${why}` },
  );
  const jsDir = path.join(CC_PREFIX, 'node_modules', 'ccmanager');
  const cli = path.join(jsDir, 'dist', 'cli.js');
  why = existsSync(cli) ? null : install('ccmanager', log);
  peers.push(
    existsSync(cli)
      ? { label: `ccmanager ${versionOf(jsDir)} (node dist/cli.js)`, argv: [process.execPath, cli] }
      : { label: 'ccmanager (node dist/cli.js)', error: `ccmanager could not be installed: ${why}` },
  );
  return peers;
}

/** ccmanager's first frame: its key help. */
export const ccmanagerReady = (lines) => lines.some((l) => l.trimStart().startsWith('Controls:'));
