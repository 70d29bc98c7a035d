/**
 * The gate sandbox (docs/gates.md#isolation): `gates.sandbox: bwrap` runs each gate command under
 * bubblewrap with the whole file system read-only but the gate checkout, a private /tmp, its own pid
 * namespace (the whole tree dies with it) and no network unless `gates.network: true`. `auto` uses
 * bwrap when it works here and runs without a sandbox otherwise; `bwrap` configured but not working is
 * an error, never a run without it.
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { CommandRunner } from './runner.js';

export type SandboxMode = 'none' | 'bwrap' | 'auto';

/** The sandbox in force for a gate run. */
export type GateSandbox = { kind: 'none' } | { kind: 'bwrap'; network: boolean };

export interface SandboxProbe {
  ok: boolean;
  /** bwrap's version, or why it cannot run. */
  detail: string;
}

const BWRAP_FIX =
  'install bubblewrap (apt-get install bubblewrap) and check that `bwrap --ro-bind / / true` runs';

/**
 * The argv that runs `argv` in the sandbox: / read-only, `writable` (the checkout) writable, `readable`
 * (the object directory the checkout borrows, which may lie under /tmp) read-only again above the
 * private /tmp, working directory `cwd`.
 */
export function bwrapArgv(
  argv: readonly string[],
  opts: { cwd: string; writable: readonly string[]; readable: readonly string[]; network: boolean },
): string[] {
  return [
    'bwrap',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    ...opts.readable.flatMap((dir) => ['--ro-bind', dir, dir]),
    ...opts.writable.flatMap((dir) => ['--bind', dir, dir]),
    '--unshare-pid',
    ...(opts.network ? [] : ['--unshare-net']),
    '--die-with-parent',
    '--chdir',
    opts.cwd,
    '--',
    ...argv,
  ];
}

/** Whether bwrap runs here with the options gates use. */
export async function probeBwrap(runner: CommandRunner): Promise<SandboxProbe> {
  const version = await runner
    .run(['bwrap', '--version'], { timeoutMs: 20_000 })
    .catch((e: unknown) => ({ exitCode: 127, stdout: '', stderr: String(e) }));
  if (version.exitCode !== 0) {
    return {
      ok: false,
      detail: `bwrap not found (${(version.stderr || version.stdout).trim() || `exit ${version.exitCode}`})`,
    };
  }
  const run = await runner.run(
    bwrapArgv(['true'], { cwd: '/', writable: [], readable: [], network: false }),
    {
      timeoutMs: 20_000,
    },
  );
  if (run.exitCode !== 0) {
    return {
      ok: false,
      detail: `${version.stdout.trim()} is installed but cannot make a sandbox here: ${(run.stderr || run.stdout).trim().split('\n').at(-1) ?? `exit ${run.exitCode}`}`,
    };
  }
  return { ok: true, detail: version.stdout.trim() };
}

/**
 * The sandbox for `gates.sandbox: mode`, given the probe. Throws for `bwrap` when the probe failed: the
 * error names the config key and the fix.
 */
export function resolveSandbox(mode: SandboxMode, network: boolean, probe: SandboxProbe | null): GateSandbox {
  if (mode === 'none') return { kind: 'none' };
  if (probe?.ok) return { kind: 'bwrap', network };
  if (mode === 'auto') return { kind: 'none' };
  throw new NightshiftError(
    ErrorCode.invalidConfig,
    `gates.sandbox is bwrap, but ${probe?.detail ?? 'bwrap was not checked'}; no gate runs without its sandbox`,
    {
      field: 'gates.sandbox',
      hint: `${BWRAP_FIX}, or set gates.sandbox: auto (bwrap when it works) or none`,
    },
  );
}

/** One line for `doctor` and the daemon log: which isolation the gates run with. */
export function describeIsolation(mode: SandboxMode, network: boolean, probe: SandboxProbe | null): string {
  const checkout = 'a checkout with no ref of the supervisor repo, a clean environment, own process group';
  if (mode === 'none') return `${checkout}; no sandbox (gates.sandbox: none)`;
  if (probe?.ok) {
    return `${checkout}; sandbox bwrap (${probe.detail}): read-only but the checkout, private /tmp, network ${network ? 'on (gates.network: true)' : 'off'}`;
  }
  return mode === 'auto'
    ? `${checkout}; no sandbox: gates.sandbox is auto and ${probe?.detail ?? 'bwrap was not checked'}`
    : `gates.sandbox is bwrap but ${probe?.detail ?? 'bwrap was not checked'}: gates cannot run`;
}

export { BWRAP_FIX };
