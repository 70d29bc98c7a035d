/**
 * `nightshift doctor`: for each host — reachable, tmux and git present with versions, workdir
 * writable, load; for each provider on each of its hosts — binary found, version, and the live probe
 * (all probes in parallel, each bounded by its timeout). Every failure says how to fix it.
 */
import { coerceError } from '../core/errors.js';
import type { Config, HostConfig } from '../config/schema.js';
import { sampleLoad } from '../hosts/load.js';
import { shownArgv } from '../hosts/quote.js';
import { LocalRunner } from '../hosts/runner.js';
import { BWRAP_FIX, describeIsolation, probeBwrap, type SandboxProbe } from '../hosts/sandbox.js';
import { sshReachOptions } from '../hosts/ssh-argv.js';
import type { WorkerHost } from '../hosts/worker.js';
import { profileFor } from './index.js';
import { repoChecks, workspaceChecks } from './doctor-repos.js';
import { checkEndpoint, endpointFix, endpointOf } from './endpoint.js';
import { runProbe } from './probe.js';
import { sharedUserWarning } from './shared-user.js';
import type { DoctorCheck } from './doctor-check.js';

export type { DoctorCheck } from './doctor-check.js';

export interface DoctorOptions {
  probe: boolean;
  now: number;
  /** The workspace: its repositories and whether it lies inside a git repository (doctor-repos.ts). */
  root?: string;
  /** Whether bwrap works on this machine; probeBwrap with a LocalRunner by default. */
  sandboxProbe?: () => Promise<SandboxProbe>;
}

export async function runDoctor(
  config: Config,
  hosts: Map<string, WorkerHost>,
  env: NodeJS.ProcessEnv,
  opts: DoctorOptions,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [await gateIsolation(config, opts)];
  const usable = new Set<string>();
  await Promise.all(
    [...hosts].map(async ([name, worker]) => {
      const add = adder(checks, 'host', name, name);
      const cfg = config.hosts[name];
      let workdir: string;
      try {
        workdir = (await worker.prepare()).workdir;
        add('reachable', true, `${worker.runner.kind}, workdir ${workdir}`, null);
      } catch (err) {
        add('reachable', false, coerceError(err).describe(), fixForHost(name, cfg));
        return;
      }
      // prepare() proves little about writing: mkdir -p accepts existing directories, and files already
      // installed are not written again. So write (and remove) a file in each directory tasks write to.
      const written = await worker.runner
        .run([
          'sh',
          '-c',
          'for d in "$@"; do f=$(mktemp "$d/.nightshift-doctor.XXXXXX") && rm -f -- "$f" || exit 1; done',
          'sh',
          // The workdir itself (shared by every workspace using the host), then this workspace's directories.
          worker.shared(),
          ...['', 'tasks', 'worktrees', 'repos', 'bin', 'state'].map((d) => worker.dir(d)),
        ])
        .catch((e: unknown) => ({ exitCode: 1, stdout: '', stderr: coerceError(e).describe() }));
      if (written.exitCode !== 0) {
        add(
          'workdir writable',
          false,
          `cannot write in ${workdir}: ${written.stderr.trim() || `exit ${written.exitCode}`}`,
          `make ${workdir} and the directories under it writable by ${worker.runner.kind === 'ssh' ? `the user nightshift logs in as on ${name}` : 'you'}, or set hosts.${name}.workdir to a directory that is`,
        );
        return;
      }
      add('workdir writable', true, `wrote and removed a file in ${workdir} and its task directories`, null);
      const shared = sharedUserWarning(name, config, env);
      add(
        'executor user',
        shared === null,
        shared?.detail ??
          (cfg?.kind === 'local'
            ? 'executors run as your own user; no secrets are configured'
            : `executors run as the user nightshift logs in as on ${name}`),
        shared?.fix ?? null,
        'warning',
      );
      usable.add(name);
      const scriptedHere = Object.entries(config.providers)
        .filter(([, p]) => p.kind === 'scripted' && p.hosts.includes(name))
        .map(([p]) => p);
      const node = await worker.runner
        .run(['node', '--version'])
        .catch((e: unknown) => ({ exitCode: 127, stdout: '', stderr: coerceError(e).describe() }));
      const version = node.exitCode === 0 ? node.stdout.trim() : null;
      const nodeOk = version !== null && nodeAtLeast(version, MIN_SCRIPTED_NODE);
      add(
        'node',
        nodeOk || scriptedHere.length === 0,
        version === null
          ? `not found${scriptedHere.length ? '' : ' (only the scripted agent needs it, and no scripted provider uses this host)'}`
          : `${version}${nodeOk ? '' : ` (the scripted agent needs ${MIN_SCRIPTED_NODE[0]}.${MIN_SCRIPTED_NODE[1]} or later)`}`,
        nodeOk || scriptedHere.length === 0
          ? null
          : `install Node.js ${MIN_SCRIPTED_NODE[0]} or later on ${name}: the scripted provider(s) ${scriptedHere.join(', ')} run the scripted agent with it`,
      );
      for (const [tool, argv, fix] of [
        ['tmux', ['tmux', '-V'], 'install tmux (apt-get install tmux)'],
        ['git', ['git', '--version'], 'install git (apt-get install git)'],
        // The runner redacts the executor's secrets from its output with awk (hosts/scripts.ts).
        [
          'awk',
          ['awk', 'BEGIN { print "present (POSIX awk, for the runner)" }'],
          'install a POSIX awk (apt-get install mawk)',
        ],
      ] as const) {
        const r = await worker.runner
          .run([...argv])
          .catch((e: unknown) => ({ exitCode: 127, stdout: '', stderr: String(e) }));
        add(
          tool,
          r.exitCode === 0,
          r.exitCode === 0 ? r.stdout.trim() : `not found: ${r.stderr.trim()}`,
          r.exitCode === 0 ? null : fix,
        );
      }
      try {
        const load = await sampleLoad(
          worker,
          config.hosts[name] ?? { kind: 'local', maxLoadPerCore: 1.5, minFreeMemMB: 0, minFreeDiskMB: 0 },
          opts.now,
        );
        add(
          'load',
          load.over.length === 0,
          `load ${load.loadPerCore.toFixed(2)}/core, ${load.memAvailableMB} MB free memory, ${load.diskFreeMB} MB free disk, ${load.sessions} ns- session(s)${load.over.length ? `: ${load.over.join('; ')}` : ''}`,
          load.over.length
            ? 'no new work goes to this host until it is under its thresholds (config: maxLoadPerCore, minFreeMemMB, minFreeDiskMB)'
            : null,
          'warning',
        );
      } catch (err) {
        add(
          'load',
          false,
          coerceError(err).describe(),
          `nightshift reads the load from /proc/loadavg, /proc/meminfo, getconf and df -Pk on the host: check that they work there (Linux), then run doctor again`,
          'warning',
        );
      }
      const linger = await worker.runner.run([
        'sh',
        '-c',
        'grep -Eqs "^KillUserProcesses=yes" /etc/systemd/logind.conf && ! loginctl show-user "$(id -un)" -p Linger 2>/dev/null | grep -q yes && echo kill || echo ok',
      ]);
      if (linger.stdout.trim() === 'kill') {
        add(
          'tmux survives logout',
          false,
          'systemd KillUserProcesses=yes will kill tmux when you log out',
          'run `loginctl enable-linger` on the host',
          'warning',
        );
      }
    }),
  );

  await Promise.all(
    Object.entries(config.providers).flatMap(([provider, cfg]) =>
      cfg.hosts.map(async (hostName) => {
        const add = adder(checks, 'provider', provider, hostName);
        const worker = hosts.get(hostName);
        if (!worker || !usable.has(hostName)) {
          add(
            'host',
            false,
            `host ${hostName} is not usable (see its checks above)`,
            `fix host ${hostName}'s failed checks, or remove it from providers.${provider}.hosts`,
          );
          return;
        }
        const endpoint = opts.probe ? endpointOf(provider, cfg) : null;
        if (endpoint !== null) {
          // First: when the endpoint cannot be reached, this says why in the network's words.
          const { url, field } = endpoint;
          const verdict = await checkEndpoint(worker.runner, url);
          add(
            'endpoint',
            verdict.ok,
            verdict.detail,
            endpointFix(verdict, url, field, viaHost(config.hosts[hostName])),
            verdict.cause === 'no-curl' ? 'warning' : 'error',
          );
        }
        const profile = profileFor(cfg.kind);
        const binary = profile.binary(cfg);
        if (binary) {
          const found = await worker.runner.run(['sh', '-c', 'command -v "$1"', 'sh', binary]);
          if (found.exitCode !== 0) {
            add('binary', false, `${binary} not found on PATH of ${hostName}`, installHint(cfg.kind, binary));
            return;
          }
          const versionArgv = profile.versionArgv(cfg);
          const version = versionArgv ? await worker.runner.run(versionArgv, { timeoutMs: 20_000 }) : null;
          add(
            'binary',
            true,
            `${found.stdout.trim()}${version ? ` (${(version.stdout || version.stderr).trim().split('\n')[0] ?? ''})` : ''}`,
            null,
          );
        }
        if (opts.probe) {
          const probe = await runProbe(worker, provider, cfg, env);
          add(
            'probe',
            probe.ok,
            `${probe.reason} (${Math.round(probe.durationMs)} ms)`,
            probe.ok ? null : probeFix(cfg.kind),
          );
        }
      }),
    ),
  );
  if (opts.root !== undefined) {
    checks.push(...(await repoChecks(config, opts.root)), ...(await workspaceChecks(opts.root)));
  }
  const rank = { gates: 0, host: 1, provider: 2, repo: 3, workspace: 4, architect: 5 } as const;
  const order = (c: DoctorCheck) => `${rank[c.scope]}${c.name}${c.host}`;
  return checks.sort((a, b) => order(a).localeCompare(order(b)));
}

/** Records checks of one scope, name and host: (check, ok, detail, fix, level = error). */
function adder(checks: DoctorCheck[], scope: DoctorCheck['scope'], name: string, host: string) {
  return (
    check: string,
    ok: boolean,
    detail: string,
    fix: string | null,
    level: DoctorCheck['level'] = 'error',
  ) => checks.push({ scope, name, host, check, ok, level, detail, fix });
}

/**
 * Which isolation the gate commands run with on this machine (the supervisor's, where gates run): the
 * checkout and the clean environment always; the sandbox as gates.sandbox and bwrap allow; the network.
 */
async function gateIsolation(config: Config, opts: DoctorOptions): Promise<DoctorCheck> {
  const { sandbox: mode, network } = config.gates;
  const probe = mode === 'none' ? null : await (opts.sandboxProbe ?? (() => probeBwrap(new LocalRunner())))();
  const broken = mode !== 'none' && !probe?.ok;
  return {
    scope: 'gates',
    name: 'gates',
    host: 'local',
    check: 'isolation',
    ok: !broken,
    // Configured bwrap that cannot run stops every gate run; auto only runs without a sandbox.
    level: mode === 'bwrap' ? 'error' : 'warning',
    detail: describeIsolation(mode, network, probe),
    fix: broken ? `${BWRAP_FIX}${mode === 'bwrap' ? ', or set gates.sandbox: auto or none' : ''}` : null,
  };
}

/** The oldest Node.js the scripted agent runs on (an ES module file, `.mjs`, with ES2022 syntax). */
const MIN_SCRIPTED_NODE = [18, 0] as const;

function nodeAtLeast(version: string, [major, minor]: readonly [number, number]): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [have, haveMinor] = [Number(m[1]), Number(m[2])];
  return have > major || (have === major && haveMinor >= minor);
}

/** The fix for a host that cannot be reached or prepared: for ssh, the exact command to try by hand. */
function fixForHost(name: string, cfg: HostConfig | undefined): string {
  if (cfg?.kind !== 'ssh') {
    return `check that hosts.${name}.workdir (${cfg?.workdir ?? `default: <workspace>/hosts/${name}`}) can be created and written by you`;
  }
  // The key, port and config file as the runner passes them (sshReachOptions), never prompting.
  const argv = ['ssh', ...sshReachOptions(cfg), '-o', 'BatchMode=yes', '--', cfg.ssh, 'true'];
  const shown = shownArgv(argv);
  return `\`${shown}\` (hosts.${name}.ssh is ${cfg.ssh}) must exit 0 without a prompt: check the key (or ssh-agent), ~/.ssh/config and known_hosts (accept the host key once by hand)`;
}

/** The prefix that runs a command on the host by hand: nothing for a local host, the ssh for an ssh one. */
function viaHost(cfg: HostConfig | undefined): string[] {
  return cfg?.kind === 'ssh' ? ['ssh', ...sshReachOptions(cfg), '--', cfg.ssh] : [];
}

function installHint(kind: string, binary: string): string {
  switch (kind) {
    case 'claude-code':
      return 'npm install -g @anthropic-ai/claude-code (pin a version)';
    case 'codex':
      return 'npm install -g @openai/codex';
    case 'opencode':
      return 'npm install -g opencode-ai';
    case 'aider':
      return 'pipx install aider-chat';
    case 'scripted':
      return 'install Node.js on the host (the scripted agent is copied there by nightshift)';
    default:
      return `install ${binary} on the host or fix providers.<name>.command`;
  }
}

function probeFix(kind: string): string {
  return kind === 'claude-code'
    ? 'check the base URL, the secretEnv variable and the model name; run the probe command by hand (see docs/providers.md)'
    : 'check the provider endpoint, credentials and model (see docs/providers.md)';
}
