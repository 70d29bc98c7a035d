/** Builds a WorkerHost (with its runner) for each host in the config. */
import type { WorkspacePaths } from '../config/paths.js';
import type { Config, HostConfig } from '../config/schema.js';
import { LocalRunner, SshRunner, type CommandRunner } from './runner.js';
import { defaultWorkdir } from './layout.js';
import { sshTargetFor } from './ssh-argv.js';
import { WorkerHost } from './worker.js';
import { workspaceId } from '../config/workspace-identity.js';

export { defaultWorkdir };

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

export function buildHosts(
  config: Config,
  paths: WorkspacePaths,
  opts: HostOptions = {},
): Map<string, WorkerHost> {
  const hosts = new Map<string, WorkerHost>();
  const workspace = workspaceId(paths);
  for (const [name, cfg] of Object.entries(config.hosts)) {
    hosts.set(
      name,
      new WorkerHost(
        name,
        runnerFor(name, cfg, paths, opts),
        defaultWorkdir(name, cfg, paths),
        workspace,
        opts.tmuxSocket ?? 'nightshift',
      ),
    );
  }
  return hosts;
}
