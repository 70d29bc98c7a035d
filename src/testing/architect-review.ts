/**
 * The judgment pipeline with the claude-code architect, for e2e tests: a real git repo, a workspace, the
 * loopback Messages API server and the real Claude Code CLI (findClaude) in real tmux on the workspace's
 * own architect socket. `reviewed(id, files)` puts a task in review whose branch adds `files`;
 * `nextRound(id, files)` sends it through another executor round (a new commit) back to review.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../config/load.js';
import { workspacePaths, type WorkspacePaths } from '../config/paths.js';
import type { NightshiftEvent } from '../core/events.js';
import { enterReview, enterRunning, type TaskRecord } from '../core/task.js';
import { Judgment } from '../daemon/judgment.js';
import { architectSocketPath } from '../hosts/layout.js';
import { LocalRunner } from '../hosts/runner.js';
import { systemClock } from '../lib/clock.js';
import { EventLog } from '../queue/eventlog.js';
import { QueueStore } from '../queue/store.js';
import { ToggleStore } from '../queue/toggles.js';
import { parseSpec } from '../spec/parse.js';
import { startAnthropicServer, type AnthropicServer } from './anthropic-server.js';
import { git, makeRepo } from './git.js';
import { tid } from './ids.js';

export const ARCHITECT_KEY = 'loopback-architect-key-5678';

export interface ArchitectBench {
  root: string;
  repo: string;
  paths: WorkspacePaths;
  server: AnthropicServer;
  store: QueueStore;
  judgment: Judgment;
  events: NightshiftEvent[];
  log: string[];
  /** The gate checkout the architect runs in for task `id`. */
  checkout(id: string): string;
  reviewed(id: string, files: Record<string, string>): void;
  nextRound(id: string, files: Record<string, string>): void;
  task(id: string): TaskRecord;
  cleanup(): Promise<void>;
}

export async function architectBench(o: {
  cli: string;
  files?: Record<string, string>;
  /** YAML lines under `gates:`. */
  gates?: string[];
  /** architect.timeout; 3m by default. */
  timeout?: string;
}): Promise<ArchitectBench> {
  const server = await startAnthropicServer();
  const repo = makeRepo({ 'README.md': '# app\n', ...o.files });
  const root = mkdtempSync(path.join(os.tmpdir(), 'ns-acc-'));
  const text = [
    'repos:',
    `  app: { path: ${JSON.stringify(repo)}, main: main }`,
    'providers:',
    '  p: { kind: scripted }',
    'architect:',
    '  mode: claude-code',
    `  cli: ${JSON.stringify(o.cli)}`,
    '  model: loopback-model',
    `  baseURL: ${server.url}`,
    '  apiKeyEnv: NS_ACC_KEY',
    `  timeout: ${o.timeout ?? '3m'}`,
    '  maxTurns: 12',
    'gates:',
    '  diff: { enabled: true }',
    ...(o.gates ?? []).map((l) => `  ${l}`),
  ].join('\n');
  writeFileSync(path.join(root, 'nightshift.config.yaml'), text);
  const paths = workspacePaths(root);
  const config = parseConfig(text, 'cfg');
  const eventLog = new EventLog(paths.events);
  const events: NightshiftEvent[] = [];
  const sink = {
    emit: (e: NightshiftEvent) => {
      events.push(e);
      eventLog.emit(e);
    },
  };
  const store = new QueueStore(paths, systemClock, eventLog);
  store.ensureLayout();
  const log: string[] = [];
  const env = {
    NS_ACC_KEY: ARCHITECT_KEY,
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? os.homedir(),
  };
  const judgment = new Judgment({
    paths,
    config,
    clock: systemClock,
    env,
    store,
    toggles: new ToggleStore(paths),
    events: sink,
    hosts: new Map(),
    log: (l) => log.push(l),
    redact: (t: string) => t.split(ARCHITECT_KEY).join('[redacted]'),
    onGraded: () => undefined,
    wake: () => undefined,
  });
  const commit = (id: string, files: Record<string, string>, from: string) => {
    const wt = mkdtempSync(path.join(os.tmpdir(), 'ns-acc-wt-'));
    git(repo, 'worktree', 'add', '-q', '-f', wt, from);
    for (const [f, content] of Object.entries(files)) writeFileSync(path.join(wt, f), content);
    git(wt, 'add', '-A');
    git(wt, 'commit', '-q', '-m', `work on ${id}`);
    git(repo, 'worktree', 'remove', '--force', wt);
  };
  const toReview = (id: string, base: string) => {
    store.transition(tid(id), (t) => {
      const r = enterRunning(t, { now: Date.now(), provider: 'p', host: 'local' });
      return { ...r, task: { ...r.task, baseSha: base } };
    });
    store.transition(tid(id), (t) => enterReview(t, { now: Date.now(), exitCode: 0 }));
  };
  return {
    root,
    repo,
    paths,
    server,
    store,
    judgment,
    events,
    log,
    checkout: (id) => paths.gateCheckout('app', id),
    reviewed(id, files) {
      const spec = parseSpec(
        Buffer.from(
          `---\ntitle: Add a feature (${id})\nid: ${id}\ntests: [test_x]\nstop: stop.\nreviewRounds: 2\n---\nTask ${id}: add the files the feature needs; use helper.ts as it is.\n`,
        ),
        { file: `${id}.md`, config },
      );
      store.enqueue(spec);
      const base = git(repo, 'rev-parse', 'main');
      git(repo, 'branch', '-q', `ns/${id}`, base);
      commit(id, files, `ns/${id}`);
      toReview(id, base);
    },
    nextRound(id, files) {
      commit(id, files, `ns/${id}`);
      const t = store.get(tid(id));
      toReview(id, t.baseSha ?? git(repo, 'rev-parse', 'main'));
    },
    task: (id) => store.get(tid(id)),
    async cleanup() {
      await judgment.stop();
      await server.close();
      await new LocalRunner().run(['tmux', '-S', architectSocketPath(paths), 'kill-server']);
      rmSync(root, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    },
  };
}
