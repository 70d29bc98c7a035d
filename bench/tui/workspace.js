// The TUI bench's workspaces: `count` tasks made with the real store and state machine (dist/), in every
// state, all older than a minute (the screen of a board that nothing changes). Not a bench itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../dist/config/load.js';
import { workspacePaths } from '../../dist/config/paths.js';
import { enterDone, enterFailed, enterReview, enterRunning } from '../../dist/core/task.js';
import { systemClock } from '../../dist/lib/clock.js';
import { QueueStore } from '../../dist/queue/store.js';
import { parseSpec } from '../../dist/spec/parse.js';

/** review → done needs an approval (core/task.ts). */
const APPROVED = { grade: 'A', verdict: 'approve', summary: 'ok', findings: [], approvedBy: 'human' };

function specText(i) {
  const id = `bench-${String(i).padStart(5, '0')}`;
  return {
    id,
    text: [
      '---',
      `id: ${id}`,
      `title: Benchmark task ${i} with a title long enough to be cut on the board`,
      `priority: ${i % 5}`,
      'tests: [bench_tui_holds]',
      'stop: when the benchmark is done',
      '---',
      `# Benchmark task ${i}`,
      '',
      `Task ${i} of the TUI benchmark: a paragraph of context, a list of steps and a stop condition.`,
      '',
      `- step one for ${id}`,
      `- step two for ${id}`,
      '',
    ].join('\n'),
  };
}

/** A workspace of `count` tasks: the first running on `local`, the rest done, in review, failed or pending. */
export function makeWorkspace(dir, count) {
  const root = path.join(dir, `ws-${count}`);
  mkdirSync(root);
  const configText = `repos: {app: {path: ${path.join(dir, 'app')}}}\n`;
  writeFileSync(path.join(root, 'nightshift.config.yaml'), configText);
  const paths = workspacePaths(root);
  const config = parseConfig(configText, paths.configFile);
  const t0 = Date.now() - count * 60_000 - 120_000;
  // Queued before the first start, so every time on the board is over a minute old: the screen of a
  // board that nothing changes (a time under a minute ticks each second, docs/tui.md).
  const store = new QueueStore(paths, { ...systemClock, now: () => t0 - 60_000 });
  store.ensureLayout();
  let running = null;
  for (let i = 0; i < count; i++) {
    const { id, text } = specText(i);
    store.enqueue(parseSpec(Buffer.from(text), { file: `${id}.md`, config }));
    const kind = i === 0 ? 'running' : (['done', 'done', 'done', 'review', 'failed'][i % 10] ?? 'pending');
    if (kind === 'pending') continue;
    const at = t0 + i * 60_000;
    const provider = ['claude', 'codex', 'glm'][i % 3];
    store.transition(id, (t) => enterRunning(t, { now: at, provider, host: 'local' }));
    if (kind === 'running') {
      running = id;
    } else if (kind === 'failed') {
      store.transition(id, (t) =>
        enterFailed(t, {
          now: at + 30_000,
          code: 'exit-nonzero',
          attribution: 'provider',
          reason: 'exited 1',
        }),
      );
    } else {
      store.transition(id, (t) => enterReview(t, { now: at + 30_000, exitCode: 0 }));
      if (kind === 'done')
        store.transition(id, (t) =>
          enterDone({ ...t, review: APPROVED }, { now: at + 50_000, sha: 'b'.repeat(40) }),
        );
    }
  }
  return { root, running, count };
}
