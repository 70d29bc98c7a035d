/**
 * `nightshift doctor`: for each host — reachable, tmux and git present with versions, workdir
 * writable, load; for each provider on each of its hosts — binary found, version, and the live probe
 * (all probes in parallel, each bounded by its timeout). Every failure says how to fix it.
 */
import { coerceError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { sampleLoad } from '../hosts/load.js';
import type { WorkerHost } from '../hosts/worker.js';
import { profileFor } from './index.js';
import { runProbe } from './probe.js';

export interface DoctorCheck {
  scope: 'host' | 'provider';
  name: string;
  host: string;
  check: string;
  ok: boolean;
  /** Warnings do not fail the doctor. */
  level: 'error' | 'warning';
  detail: string;
  fix: string | null;
}

export interface DoctorOptions {
  probe: boolean;
  now: number;
}

export async function runDoctor(
  config: Config,
  hosts: Map<string, WorkerHost>,
  env: NodeJS.ProcessEnv,
  opts: DoctorOptions,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const usable = new Set<string>();
  await Promise.all(
    [...hosts].map(async ([name, worker]) => {
      const add = (
        check: string,
        ok: boolean,
        detail: string,
        fix: string | null,
        level: DoctorCheck['level'] = 'error',
      ) => checks.push({ scope: 'host', name, host: name, check, ok, level, detail, fix });
      try {
        const facts = await worker.prepare();
        add('reachable', true, `${worker.runner.kind}, workdir ${facts.workdir} writable`, null);
      } catch (err) {
        add('reachable', false, coerceError(err).describe(), fixForHost(worker));
        return;
      }
      usable.add(name);
      for (const [tool, argv, fix] of [
        ['tmux', ['tmux', '-V'], 'install tmux (apt-get install tmux)'],
        ['git', ['git', '--version'], 'install git (apt-get install git)'],
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
        add('load', false, coerceError(err).describe(), null, 'warning');
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
        const add = (check: string, ok: boolean, detail: string, fix: string | null) =>
          checks.push({
            scope: 'provider',
            name: provider,
            host: hostName,
            check,
            ok,
            level: 'error',
            detail,
            fix,
          });
        const worker = hosts.get(hostName);
        if (!worker || !usable.has(hostName)) {
          add('host', false, `host ${hostName} is not usable (see its checks above)`, null);
          return;
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
  const order = (c: DoctorCheck) => `${c.scope === 'host' ? 0 : 1}${c.name}${c.host}`;
  return checks.sort((a, b) => order(a).localeCompare(order(b)));
}

function fixForHost(worker: WorkerHost): string {
  return worker.runner.kind === 'ssh'
    ? `check that \`ssh ${worker.name}\` works without a password prompt (BatchMode): keys, ~/.ssh/config, known_hosts`
    : 'check that the workdir is writable';
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
