/**
 * Review rounds continue the executor's Claude Code session (docs/providers.md): the real `claude` CLI
 * in a whole night against a loopback Messages API (src/testing/anthropic-server.ts). Round 1 writes
 * first.txt; the tests gate wants second.txt, so the branch goes back for round 2, whose command must
 * carry `--resume <round 1's session_id>` and whose first request must hold round 1's conversation.
 * Skipped, saying why, when no CLI can be had (src/testing/claude-cli.ts).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findClaude } from '../../src/testing/claude-cli.js';
import {
  lastUserText,
  startAnthropicServer,
  text,
  toolUse,
  type AnthropicServer,
  type RecordedRequest,
} from '../../src/testing/anthropic-server.js';
import { makeNight, type Night } from '../../src/testing/night.js';
import { waitFor } from '../../src/testing/wait.js';
import { tid } from '../../src/testing/ids.js';

const found = await findClaude();
const claude = 'bin' in found ? found : null;
if (!claude) {
  console.warn(
    `[claude-resume] SKIPPED: no Claude Code CLI to run. ${'problem' in found ? found.problem : ''}`,
  );
}

let night: Night | null = null;
let server: AnthropicServer | null = null;
const saved = { PATH: process.env['PATH'], HOME: process.env['HOME'] };
afterEach(async () => {
  await night?.cleanup();
  await server?.close();
  night = null;
  server = null;
  process.env['PATH'] = saved.PATH;
  process.env['HOME'] = saved.HOME;
});

/** The session_id of the result line of a stream-json log. */
function sessionOf(log: string): string | null {
  for (const line of log.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const o = JSON.parse(line) as { type?: string; session_id?: string };
    if (o.type === 'result' && o.session_id) return o.session_id;
  }
  return null;
}

/**
 * The model: answers the probe's nonce; to each new prompt (not a tool result) writes a file with a
 * Bash tool call, first.txt then second.txt; to a tool result says it is done.
 */
function model(prompts: RecordedRequest[]): (r: RecordedRequest) => ReturnType<typeof text> {
  return (r) => {
    const body = r.body;
    const nonce = /ns-probe-[0-9a-f]+/.exec(lastUserText(body))?.[0];
    if (nonce && !body?.tools?.length) return text(nonce);
    const last = body?.messages?.at(-1);
    if (JSON.stringify(last?.content ?? '').includes('tool_result')) return text('Done.');
    prompts.push(r);
    const file = prompts.length === 1 ? 'first.txt' : 'second.txt';
    return toolUse('Bash', {
      command: `printf 'x\\n' > ${file}`,
      description: `tool-call-${prompts.length}`,
    });
  };
}

describe.skipIf(!claude)('review rounds with Claude Code', () => {
  it("round 2 resumes round 1's session: its argv carries the session id and its request the history", async () => {
    const prompts: RecordedRequest[] = [];
    server = await startAnthropicServer({ defaultHandler: model(prompts) });
    night = makeNight({
      providers: [
        '  glm:',
        '    kind: claude-code',
        '    hosts: [local]',
        '    concurrency: 1',
        '    model: glm-e2e-model',
        `    env: { ANTHROPIC_BASE_URL: ${JSON.stringify(server.url)} }`,
        '    secretEnv: { ANTHROPIC_AUTH_TOKEN: NS_E2E_TOKEN }',
      ].join('\n'),
      extra: [
        'defaults: { retryInitial: 1s, retryMax: 2s, livenessEvery: 1s, monitorEvery: 1h }',
        'gates:',
        '  tests: { enabled: true, command: "test -e second.txt" }',
        '  sandbox: none',
      ].join('\n'),
    });
    const home = path.join(night.root, 'home');
    mkdirSync(home);
    process.env['PATH'] = `${path.dirname(claude!.bin)}:${saved.PATH ?? '/usr/bin:/bin'}`;
    process.env['HOME'] = home;
    const sup = night.supervisor({ env: { ...process.env, NS_E2E_TOKEN: 'e2e-secret-token-9c2e' } });
    await sup.start();
    night.dropSpec(
      'two-rounds.md',
      [
        '---',
        'title: Write first.txt, then second.txt',
        'id: two-rounds',
        'reviewRounds: 2',
        'tests: [test_it]',
        'timeout: 10m',
        '---',
        'Write first.txt. The review will ask for more.',
        '',
      ].join('\n'),
    );
    await waitFor(
      'merged',
      () => sup.store.list().find((t) => t.id === 'two-rounds')?.state === 'done' || null,
      180_000,
    );
    const task = sup.store.get(tid('two-rounds'));
    expect(task.attempts).toHaveLength(2);
    const log1 = readFileSync(path.join(night.paths.logs, 'two-rounds', 'attempt-1.log'), 'utf8');
    const session = sessionOf(log1);
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    // Round 2's command (the runner's argv file on the host) resumes it.
    const argv = readFileSync(path.join(night.workerDir, 'tasks', 'two-rounds', 'argv'), 'utf8');
    expect(argv).toMatch(new RegExp(`--resume'? '?${session ?? 'none'}`));
    expect(argv).not.toContain('--session-id');
    // And round 2's first request to the model holds round 1's conversation: its tool call, its answer.
    expect(prompts).toHaveLength(2);
    const history = JSON.stringify(prompts[1]?.body?.messages ?? []);
    expect(history).toContain('tool-call-1');
    expect(history).toContain('Done.');
  });
});
