/** Builds a WorkerHost (with its runner) for each host in the config. */
import path from 'node:path';
import type { WorkspacePaths } from '../config/paths.js';
import type { Config, HostConfig } from '../config/schema.js';
import { LocalRunner, SshRunner, type CommandRunner } from './runner.js';
import { sshTargetFor } from './ssh-argv.js';
import { WorkerHost } from './worker.js';

export interface HostOptions {
  /** tmux socket name (tests use their own). */
  tmuxSocket?: string;
  /** Extra ssh -o options (tests pass known_hosts settings). */
  sshOptions?: string[];
}

export function runnerFor(
  name: string,
  cfg: HostConfig,
  paths: WorkspacePaths,
  opts: HostOptions = {},
): CommandRunner {
  if (cfg.kind === 'local') return new LocalRunner(name);
  return new SshRunner(sshTargetFor(name, cfg, paths, opts.sshOptions));
}

/** The workdir: as configured (ssh hosts must name one), else the workspace's own `hosts/<name>`. */
export function defaultWorkdir(name: string, cfg: HostConfig, paths: WorkspacePaths): string {
  return cfg.workdir ?? path.join(paths.root, 'hosts', name);
}

export function buildHosts(
  config: Config,
  paths: WorkspacePaths,
  opts: HostOptions = {},
): Map<string, WorkerHost> {
  const hosts = new Map<string, WorkerHost>();
  for (const [name, cfg] of Object.entries(config.hosts)) {
    hosts.set(
      name,
      new WorkerHost(
        name,
        runnerFor(name, cfg, paths, opts),
        defaultWorkdir(name, cfg, paths),
        opts.tmuxSocket ?? 'nightshift',
      ),
    );
  }
  return hosts;
}
