import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LocalRunner } from '../../src/hosts/runner.js';
import { WorkerHost } from '../../src/hosts/worker.js';
import { systemClock } from '../../src/lib/clock.js';
import { makeRepo } from '../../src/testing/git.js';
import { runCli } from '../../src/testing/workspace.js';
import { killTmuxServers, localExecutorSocket } from '../../src/testing/executor-tmux.js';

const socket = `ns-doctor-${process.pid}`;
const roots: string[] = [];
afterAll(() => {
  killTmuxServers(
    socket,
    roots.map((r) => localExecutorSocket(r, socket)),
  );
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function workspace(
  providers: string,
  hosts = '  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }',
) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-doctor-'));
  const repo = makeRepo();
  roots.push(root, repo);
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    // A real repository: doctor checks the configured repos too (doctor-repos.test.ts).
    `repos:\n  app: { path: ${JSON.stringify(repo)} }\nhosts:\n${hosts}\nproviders:\n${providers}\n`,
  );
  return root;
}

const env = { ...process.env, NIGHTSHIFT_TMUX_SOCKET: socket };

it('passes a healthy local host and provider, with versions and a live probe', async () => {
  const root = workspace('  good: { kind: scripted, hosts: [local] }');
  const r = await runCli(['doctor', '--json'], { cwd: root, clock: systemClock, env });
  const report = JSON.parse(r.stdout) as {
    ok: boolean;
    checks: { name: string; check: string; ok: boolean; detail: string }[];
  };
  expect(r.code).toBe(0);
  expect(report.ok).toBe(true);
  const by = (name: string, check: string) => report.checks.find((c) => c.name === name && c.check === check);
  expect(by('local', 'tmux')?.detail).toMatch(/^tmux \d/);
  expect(by('local', 'git')?.detail).toMatch(/^git version/);
  expect(by('local', 'awk')).toMatchObject({ ok: true, detail: 'present (POSIX awk, for the runner)' });
  expect(by('local', 'workdir writable')).toMatchObject({ ok: true });
  expect(by('local', 'node')).toMatchObject({ ok: true, detail: process.version });
  expect(by('good', 'probe')).toMatchObject({ ok: true });
});

it('fails on a silent provider, a missing binary and an unreachable host, saying how to fix each', async () => {
  const root = workspace(
    [
      '  mute: { kind: scripted, hosts: [local], scripted: { probe: silent } }',
      '  ghost: { kind: command, hosts: [local], command: [no-such-agent-binary, "{{nightshift:prompt-file}}"] }',
      '  far: { kind: scripted, hosts: [away] }',
    ].join('\n'),
    '  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\n  away: { kind: ssh, ssh: nobody@127.0.0.1, port: 1, workdir: /tmp/ns-away, identityFile: "id 100%" }',
  );
  writeFileSync(path.join(root, 'id 100%'), '', { mode: 0o600 });
  const r = await runCli(['doctor'], { cwd: root, clock: systemClock, env });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/FAIL provider mute@local: probe: .*empty/);
  expect(r.stdout).toMatch(
    /FAIL provider ghost@local: binary: no-such-agent-binary not found[\s\S]*fix: install no-such-agent-binary/,
  );
  // The fix names the destination and the command to try, not just the config key: the key given as the
  // runner gives it (-o IdentityFile, its `%` doubled, as ssh expands tokens there), pasteable in a shell.
  const key = `'IdentityFile="${path.join(root, 'id 100%%')}"'`;
  expect(r.stdout).toContain(
    `fix: \`ssh -p 1 -o ${key} -o IdentitiesOnly=yes -o BatchMode=yes -- nobody@127.0.0.1 true\` (hosts.away.ssh is nobody@127.0.0.1) must exit 0 without a prompt`,
  );
  expect(r.stdout).toMatch(/FAIL host away: reachable: [^\n]*\n\s+fix: `ssh -p 1 /);
  expect(r.stdout).toMatch(
    /FAIL provider far@away: host: host away is not usable[^\n]*\n\s+fix: fix host away's failed checks, or remove it from providers\.far\.hosts/,
  );
  expect(r.stdout).toMatch(/check\(s\) failed/);
});

/**
 * A workdir that exists, holds everything prepare() installs, and cannot be written: prepare() succeeds
 * (mkdir -p and unchanged files write nothing), so only a real write finds it. Not root: mode 0555.
 * Root ignores modes, so there the directory is made immutable (chattr +i), which root's writes obey.
 */
it('fails a workdir that cannot be written, though prepare() succeeds there', async () => {
  const root = workspace('  sim: { kind: scripted, hosts: [local] }');
  const workdir = path.join(root, 'ro');
  writeFileSync(
    path.join(root, 'nightshift.config.yaml'),
    `hosts:\n  local: { kind: local, workdir: ${JSON.stringify(workdir)}, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }\nproviders:\n  sim: { kind: scripted, hosts: [local] }\n`,
  );
  await new WorkerHost('local', new LocalRunner(), workdir, '0000beef', socket).prepare();
  const asRoot = process.getuid?.() === 0;
  const locked = asRoot
    ? (await new LocalRunner().run(['chattr', '+i', workdir])).exitCode === 0
    : (chmodSync(workdir, 0o555), true);
  if (!locked) {
    console.warn('[doctor] SKIPPED the read-only workdir case: running as root and chattr +i failed here');
    return;
  }
  try {
    const r = await runCli(['doctor'], { cwd: root, clock: systemClock, env });
    expect(r.stdout).toMatch(new RegExp(`ok   host local: reachable: local, workdir ${workdir}\n`));
    expect(r.stdout).toMatch(
      /FAIL host local: workdir writable: cannot write in [^\n]*(Permission denied|Operation not permitted)[^\n]*\n\s+fix: make [^\n]*\/ro and the directories under it writable/,
    );
    expect(r.stdout).toMatch(/FAIL provider sim@local: host: host local is not usable/);
    expect(r.code).toBe(1);
  } finally {
    if (asRoot) await new LocalRunner().run(['chattr', '-i', workdir]);
    else chmodSync(workdir, 0o700);
  }
});

it('names the endpoint a provider cannot reach, the cause in the network’s words, and a command to try', async () => {
  // A real HTTP server on loopback: reached over http, it answers (any status is an answer); spoken to
  // over https, the TLS handshake fails.
  const server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const root = workspace(
      [
        `  up: { kind: claude-code, hosts: [local], env: { ANTHROPIC_BASE_URL: "http://127.0.0.1:${port}" } }`,
        '  nodns: { kind: claude-code, hosts: [local], env: { ANTHROPIC_BASE_URL: "https://no-such-endpoint.invalid/api" } }',
        '  closed: { kind: claude-code, hosts: [local], env: { ANTHROPIC_BASE_URL: "http://127.0.0.1:1" } }',
        `  tls: { kind: claude-code, hosts: [local], env: { ANTHROPIC_BASE_URL: "https://127.0.0.1:${port}" } }`,
      ].join('\n'),
    );
    const r = await runCli(['doctor'], { cwd: root, clock: systemClock, env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `ok   provider up@local: endpoint: http://127.0.0.1:${port}/ answered (HTTP 404)`,
    );
    expect(r.stdout).toMatch(
      /FAIL provider nodns@local: endpoint: the name no-such-endpoint\.invalid does not resolve \(DNS\)[^\n]*\n\s+fix: check the host name in providers\.nodns\.env\.ANTHROPIC_BASE_URL and the host's DNS[^\n]*try: curl -sS -o \/dev\/null -w '%\{http_code\}' --connect-timeout 10 --max-time 20 --url https:\/\/no-such-endpoint\.invalid\/api/,
    );
    expect(r.stdout).toMatch(
      /FAIL provider closed@local: endpoint: nothing accepts connections at http:\/\/127\.0\.0\.1:1\/ \(refused or unreachable\)[^\n]*\n\s+fix: check the port/,
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `FAIL provider tls@local: endpoint: the TLS handshake with https://127\\.0\\.0\\.1:${port}/ failed[^\\n]*\\n\\s+fix: check http:// versus https://`,
      ),
    );
  } finally {
    server.close();
  }
});
