/**
 * The README's first command, `npm install && npx nightshift demo`, in a clone: npm's exec links a
 * project whose own package.json has the asked-for bin into the npx cache and runs the link's `prepare`
 * (scripts/build.js header). These tests run the real npx, offline, with an npx cache of their own, in a
 * small project that has nightshift's bin and `prepare` and a copy of scripts/build.js, but no TypeScript
 * to build with: a build that starts fails there, so a run that succeeds proves nothing was rebuilt.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function project(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-npx-'));
  temps.push(root);
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'scripts'));
  mkdirSync(path.join(root, 'src'));
  mkdirSync(path.join(root, 'dist'));
  // nightshift's own bin name and prepare, as package.json has them.
  const manifest = {
    name: 'nightshift',
    version: '0.0.0-test',
    type: 'module',
    bin: pkg.bin,
    scripts: { prepare: pkg.scripts['prepare'] },
  };
  writeFileSync(path.join(root, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    path.join(root, pkg.bin['nightshift'] ?? 'bin/nightshift.js'),
    "#!/usr/bin/env node\nconsole.log('the local bin ran');\n",
  );
  copyFileSync(path.join(repo, 'scripts', 'build.js'), path.join(root, 'scripts', 'build.js'));
  writeFileSync(path.join(root, 'src', 'main.ts'), 'export {};\n');
  // A build that started a second ago, after every input was written.
  writeFileSync(
    path.join(root, 'dist', '.build-stamp'),
    `${JSON.stringify({ started: Date.now() + 1000 })}\n`,
  );
  return root;
}

function npx(root: string): { status: number | null; out: string } {
  const cache = path.join(root, '.npm-cache');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')),
  );
  const r = spawnSync('npx', ['--offline', '--cache', cache, 'nightshift'], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** What npm logged in this project's npx cache (its _logs/, one file per run). */
function npmLog(root: string): string {
  const dir = path.join(root, '.npm-cache', '_logs');
  return readdirSync(dir)
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('');
}

it('the first `npx nightshift` in a clone whose build is current runs the local bin offline without building again', () => {
  const root = project();
  const stamp = readFileSync(path.join(root, 'dist', '.build-stamp'), 'utf8');
  const r = npx(root);
  expect(r.out).toMatch(/the local bin ran/);
  expect(r.status, r.out).toBe(0);
  expect(readFileSync(path.join(root, 'dist', '.build-stamp'), 'utf8')).toBe(stamp);
}, 150_000);

it('npx does run prepare for the clone: with a source newer than the build, it tries to build (and fails here, with no TypeScript)', () => {
  const root = project();
  const later = new Date(Date.now() + 60_000);
  utimesSync(path.join(root, 'src', 'main.ts'), later, later);
  const r = npx(root);
  expect(r.status, r.out).not.toBe(0);
  expect(r.out).not.toMatch(/the local bin ran/);
  // The failure is the build's: npm ran the clone's prepare (scripts/build.js), which ended in error.
  expect(npmLog(root)).toMatch(
    /run nightshift@\S+ prepare .*scripts\/build\.js --if-stale\n.*prepare \{ code: 1/,
  );
}, 150_000);
