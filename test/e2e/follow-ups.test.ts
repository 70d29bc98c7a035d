/**
 * Follow-up specs in a real night: scripted executors whose work the architect (the loopback Messages
 * API) keeps sending back, with no review rounds left, so each task parks for a person. The architect
 * drafts a follow-up for the parked originals, within maxPerNight, and none for a follow-up (maxDepth 1).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import {
  lastUserText,
  startAnthropicServer,
  toolUse,
  type AnthropicServer,
} from '../../src/testing/anthropic-server.js';
import { makeNight, scriptedSpec, type Night } from '../../src/testing/night.js';
import { runCli } from '../../src/testing/workspace.js';
import { waitFor } from '../../src/testing/wait.js';
import { systemClock } from '../../src/lib/clock.js';
import { listDrafts } from '../../src/queue/drafts.js';

let night: Night | null = null;
let server: AnthropicServer | null = null;
afterEach(async () => {
  await night?.cleanup();
  await server?.close();
  night = null;
  server = null;
});

it('drafts follow-ups for parked tasks, within maxPerNight and maxDepth', async () => {
  server = await startAnthropicServer();
  server.setDefault((req) => {
    const tool = (req.body?.tools as { name?: string }[] | undefined)?.[0]?.name;
    if (tool === 'submit_follow_up') {
      const origin = /Task "([a-z0-9-]+)" ended/.exec(lastUserText(req.body))?.[1] ?? 'x';
      return toolUse('submit_follow_up', {
        spec: {
          id: `${origin}-narrow`,
          title: `Narrower ${origin}`,
          dependsOn: [],
          tests: ['test_narrow'],
          stop: 'Stop when test_narrow passes.',
          body: `Do only the first half of ${origin}: write the file with a comment on its first line, and add test_narrow beside the other tests.`,
        },
        reason: 'The original asked for two things; this asks for one.',
      });
    }
    return toolUse('submit_verdict', {
      grade: 'C',
      verdict: 'changes',
      summary: 'The file needs a comment.',
      findings: [{ file: 'f.txt', line: 1, severity: 'minor', text: 'add a comment' }],
    });
  });
  night = makeNight({
    providers: ['  good:', '    kind: scripted', '    hosts: [local]', '    concurrency: 4'].join('\n'),
    extra: [
      'architect:',
      '  mode: llm',
      `  baseURL: ${server.url}`,
      '  apiKeyEnv: NS_TEST_ARCHITECT_KEY',
      '  timeout: 20s',
      '  followUps: { maxPerNight: 2, maxDepth: 1 }',
      'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }',
    ].join('\n'),
  });
  const env = { ...process.env, NS_TEST_ARCHITECT_KEY: 'k-follow' };
  const log: string[] = [];
  const sup = night.supervisor({
    env,
    log: (line) => {
      log.push(line);
      appendFileSync(night!.paths.daemonLog, `${line}\n`);
    },
  });
  await sup.start();
  const script = (id: string) => [`write ${id}.txt "${id}\\n"`, `commit "${id}"`, 'exit 0'].join('\n');
  // p2 is itself a follow-up of p1 (depth 1): with maxDepth 1 it gets none of its own.
  night.dropSpec('p1.md', scriptedSpec('p1', script('p1'), ['reviewRounds: 0']));
  night.dropSpec('p2.md', scriptedSpec('p2', script('p2'), ['reviewRounds: 0', 'followUpOf: p1']));
  night.dropSpec('p3.md', scriptedSpec('p3', script('p3'), ['reviewRounds: 0']));
  night.dropSpec('p4.md', scriptedSpec('p4', script('p4'), ['reviewRounds: 0']));
  await waitFor(
    'four parked',
    () => sup.store.list().filter((t) => t.state === 'review' && t.parked === 'needs-human').length === 4,
    120_000,
    200,
  );
  await waitFor(
    'three follow-up decisions',
    () => log.filter((l) => /follow-up/.test(l)).length >= 3,
    60_000,
    100,
  );
  await sup.followUps.settle();
  const events = readFileSync(night.paths.events, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; task?: string; origin?: string; reason?: string })
    .filter((e) => e.type === 'architect.follow-up');
  // maxPerNight: two of the three originals get one; never p2 (maxDepth).
  expect(events).toHaveLength(2);
  const origins = events.map((e) => e.origin);
  expect(origins).not.toContain('p2');
  for (const o of origins) expect(['p1', 'p3', 'p4']).toContain(o);
  expect(log.join('\n')).toMatch(
    /no follow-up of p2: a follow-up of p2 would be depth 2, over architect.followUps.maxDepth \(1\)/,
  );
  expect(log.join('\n')).toMatch(
    /no follow-up of p[134]: 2 follow-up\(s\) drafted in the last 24 hours: architect.followUps.maxPerNight is 2/,
  );
  // Drafts by default (autoQueue false), each naming its origin and passing lint --strict.
  const drafts = listDrafts(night.paths, night.config);
  expect(drafts.map((d) => [d.id, d.followUpOf]).sort()).toEqual(
    origins.map((o) => [`${o}-narrow`, o]).sort(),
  );
  for (const d of drafts) expect(d.problems).toEqual([]);
  expect(
    sup.store
      .list()
      .map((t) => t.id)
      .sort(),
  ).toEqual(['p1', 'p2', 'p3', 'p4']);
  // The originals were left as they were: parked for a person.
  for (const t of sup.store.list()) expect(t.parked).toBe('needs-human');
  // Each follow-up call's tokens are on its origin, as the architect's share of the night.
  for (const o of origins) {
    const calls = sup.store.get(o as never).architectUsage?.filter((u) => u.kind === 'follow-up') ?? [];
    expect(calls).toHaveLength(1);
    expect(calls[0]?.usage.inputTokens).toBeGreaterThan(0);
  }
  // The architect was told why the task ended and what its review said.
  const asked = server.messages().find((m) => JSON.stringify(m.body).includes('submit_follow_up'));
  expect(JSON.stringify(asked?.body)).toContain('review rounds used up');
  expect(JSON.stringify(asked?.body)).toContain('add a comment');
  await sup.stop('test done');
  // The morning report lists them with their origin.
  const md = await runCli(['report', '--format', 'md'], { cwd: night.root, clock: systemClock, env });
  expect(md.stdout).toContain('## Follow-ups');
  for (const o of origins) expect(md.stdout).toContain(`**${o}-narrow** follows up ${o}`);
});
