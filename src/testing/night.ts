/** A whole supervised workspace for daemon tests: a real repo, a config, a Supervisor on its own tmux socket. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../config/load.js';
import { workspacePaths, type WorkspacePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { Supervisor, type SupervisorOptions } from '../daemon/supervisor.js';
import { buildHosts } from '../hosts/registry.js';
import { workspaceId } from '../config/workspace-identity.js';
import { parseTaskId } from '../core/ids.js';
import { workspaceDir } from '../hosts/layout.js';
import { sessionName } from '../hosts/session-names.js';
import { LocalRunner } from '../hosts/runner.js';
import { systemClock } from '../lib/clock.js';
import { localExecutorSocket } from './executor-tmux.js';
import { makeRepo } from './git.js';

export interface Night {
  root: string;
  repo: string;
  paths: WorkspacePaths;
  config: Config;
  socket: string;
  /** The path of the executors' tmux socket (`<root>/hosts/local/tmux/<socket>`). */
  executorSocket: string;
  /** This workspace's directory on the local host: `<root>/hosts/local/ws/<workspace id>` (tasks/, worktrees/, …). */
  workerDir: string;
  /** This workspace's tmux session of a task on the local host. */
  session(id: string): string;
  supervisor(opts?: Partial<SupervisorOptions>): Supervisor;
  dropSpec(name: string, text: string): void;
  cleanup(): Promise<void>;
}

/**
 * `providers` is the YAML body under `providers:`; `extra` is appended to the config; `repo` goes into
 * the repo `app`'s entry. The workspace is a
 * new temporary directory, or `root` (created) for one that must live somewhere in particular.
 */
export function makeNight(opts: {
  providers: string;
  extra?: string;
  root?: string;
  /** More keys of the repo's mapping, e.g. `merge: { mode: pr }`. */
  repoOptions?: string;
}): Night {
  const root = opts.root ?? mkdtempSync(path.join(os.tmpdir(), 'ns-night-'));
  mkdirSync(root, { recursive: true });
  const repo = makeRepo({ 'README.md': '# app\n' });
  const text = [
    'repos:',
    `  app: { path: ${JSON.stringify(repo)}, main: main${opts.repoOptions ? `, ${opts.repoOptions}` : ''} }`,
    'hosts:',
    '  local: { kind: local, maxLoadPerCore: 1000, minFreeMemMB: 1, minFreeDiskMB: 1 }',
    'providers:',
    opts.providers,
    opts.extra ?? '',
  ].join('\n');
  writeFileSync(path.join(root, 'nightshift.config.yaml'), text, { mode: 0o600 });
  const paths = workspacePaths(root);
  const config = parseConfig(text, 'nightshift.config.yaml');
  const socket = `ns-t-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const supervisors: Supervisor[] = [];
  return {
    root,
    repo,
    paths,
    config,
    socket,
    executorSocket: localExecutorSocket(root, socket),
    workerDir: workspaceDir(path.join(root, 'hosts', 'local'), workspaceId(paths)),
    session: (id) => sessionName(workspaceId(paths), parseTaskId(id)),
    supervisor(extra = {}) {
      const s = new Supervisor({
        paths,
        config,
        clock: systemClock,
        env: { ...process.env },
        hosts: buildHosts(config, paths, { tmuxSocket: socket }),
        pollMs: 200,
        loadEveryMs: 1000,
        ...extra,
      });
      supervisors.push(s);
      return s;
    },
    dropSpec(name, specText) {
      writeFileSync(path.join(paths.specs, name), specText);
    },
    async cleanup() {
      for (const s of supervisors) await s.stop('test cleanup').catch(() => undefined);
      await new LocalRunner().run(['tmux', '-S', localExecutorSocket(root, socket), 'kill-server']);
      // And a server a test started on the night's own socket (the TUI's, as plain `nightshift` would).
      await new LocalRunner().run(['tmux', '-L', socket, 'kill-server']);
      if (process.env['NS_KEEP_TEST_DIRS']) return; // for post-mortems
      rmSync(root, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    },
  };
}

/** A spec whose scripted executor follows `script` (the nightshift-script block). */
export function scriptedSpec(id: string, script: string, front: string[] = []): string {
  return [
    '---',
    `title: Scripted task ${id}`,
    `id: ${id}`,
    'tests: [test_it]',
    'stop: Stop when the script ends.',
    ...front,
    '---',
    `Task ${id}: follow the script below exactly; it is a simulated agent run for nightshift's own tests and demo.`,
    '',
    '```nightshift-script',
    script.trim(),
    '```',
    '',
  ].join('\n');
}
