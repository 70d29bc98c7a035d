/**
 * The Claude Code probe, for real: the actual `claude` CLI against a loopback Anthropic Messages server
 * (src/testing/anthropic-server.ts), through the production probe — runProbe on a local host, as doctor
 * and the daemon run it: the runner script, timeout(1) on the host, `env -i` with only PATH, HOME, LANG
 * and the profile's environment file. No model, no network beyond 127.0.0.1.
 *
 * The CLI comes from NIGHTSHIFT_CLAUDE_BIN, or is installed once from npm into a cache outside the repo
 * (os.tmpdir()/ns-claude-cache) when this file is collected. When it cannot be had (offline, say) the
 * suite is skipped, and says so and why.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { LocalRunner } from '../../src/hosts/runner.js';
import { WorkerHost } from '../../src/hosts/worker.js';
import { substitutePrompt } from '../../src/providers/common.js';
import { profileFor, resolveSecrets } from '../../src/providers/index.js';
import { runProbe, type ProbeOutcome } from '../../src/providers/probe.js';
import type { LaunchContext } from '../../src/providers/types.js';
import { CLAUDE_CACHE, CLAUDE_VERSION, findClaude } from '../../src/testing/claude-cli.js';
import {
  empty,
  error,
  hang,
  lastUserText,
  toolUse,
  startAnthropicServer,
  text,
  type AnthropicServer,
  type Handler,
} from '../../src/testing/anthropic-server.js';

const VERSION = CLAUDE_VERSION;
const CACHE = CLAUDE_CACHE;

const found = await findClaude();
const claude = 'bin' in found ? found : null;
if (!claude) {
  console.warn(
    `[probe-claude] SKIPPED, all tests of this file: no Claude Code CLI to run. ${'problem' in found ? found.problem : ''}. ` +
      `They need npm to reach the registry once (the CLI is cached in ${CACHE}), or NIGHTSHIFT_CLAUDE_BIN=<path to claude>.`,
  );
} else {
  console.log(`[probe-claude] using ${claude.bin} (${claude.version})`);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ns-probe-claude-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let server: AnthropicServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const TOKEN = 'e2e-secret-token-6b1d';
const MODEL = 'glm-e2e-model';

/**
 * The local host the probes run on. Its PATH holds the CLI's directory, as `npm install -g` would, and
 * its HOME is a temp dir: runProbe hands the executor the host's PATH and HOME, nothing else of ours.
 */
let worker: WorkerHost | null = null;
beforeAll(async () => {
  if (!claude) return;
  const home = path.join(tmp, 'home');
  mkdirSync(home);
  process.env['PATH'] = `${path.dirname(claude.bin)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
  process.env['HOME'] = home;
  worker = new WorkerHost(
    'here',
    new LocalRunner('here'),
    path.join(tmp, 'host'),
    '0000beef',
    `ns-probe-claude-${process.pid}`,
  );
  await worker.prepare();
});

/** The production probe of a claude-code provider pointed at a fresh loopback server. */
async function probe(
  handlers: Handler[],
  opts: { timeoutS?: number; secretEnv?: Record<string, string>; fallback?: Handler } = {},
): Promise<ProbeOutcome & { server: AnthropicServer }> {
  const srv = await startAnthropicServer({
    handlers,
    ...(opts.fallback ? { defaultHandler: opts.fallback } : {}),
  });
  server = srv;
  const cfg = configSchema.parse({
    providers: {
      glm: {
        kind: 'claude-code',
        model: MODEL,
        env: { ANTHROPIC_BASE_URL: srv.url },
        secretEnv: opts.secretEnv ?? { ANTHROPIC_AUTH_TOKEN: 'NS_E2E_TOKEN' },
        probeTimeout: `${opts.timeoutS ?? 60}s`,
      },
    },
  }).providers['glm']!;
  const outcome = await runProbe(worker!, 'glm', cfg, { NS_E2E_TOKEN: TOKEN });
  console.log(
    `[probe-claude] ${outcome.ok ? 'ok' : 'failed'} in ${Math.round(outcome.durationMs)} ms: ${outcome.reason}`,
  );
  return { ...outcome, server: srv };
}

describe.skipIf(!claude)(`claude-code probe against a loopback Messages API (claude ${VERSION})`, () => {
  it('passes when the endpoint answers the nonce; the request carries the model and the secretEnv token', async () => {
    const run = await probe([
      (req) => text(/Reply with exactly: (\S+)/.exec(lastUserText(req.body))?.[1] ?? 'no nonce'),
    ]);
    expect(run).toMatchObject({ ok: true, reason: 'answered', provider: 'glm', host: 'here' });
    const [first] = run.server.messages();
    expect(first).toBeDefined();
    expect(first!.url).toBe('/v1/messages?beta=true');
    expect(first!.body?.model).toBe(MODEL);
    expect(first!.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(first!.headers['x-api-key']).toBeUndefined();
    expect(lastUserText(first!.body)).toMatch(/Reply with exactly: \S+/);
    // `--tools ""`: the probe offers the model no tools.
    expect(first!.body?.tools ?? []).toEqual([]);
    // No request at all ever names a Claude model id at a third-party endpoint.
    for (const m of run.server.messages()) expect(m.body?.model).toBe(MODEL);
  });

  it('sends ANTHROPIC_API_KEY as x-api-key', async () => {
    const run = await probe([], {
      secretEnv: { ANTHROPIC_API_KEY: 'NS_E2E_TOKEN' },
      fallback: (req) => text(/Reply with exactly: (\S+)/.exec(lastUserText(req.body))?.[1] ?? ''),
    });
    expect(run.ok).toBe(true);
    expect(run.server.messages()[0]!.headers['x-api-key']).toBe(TOKEN);
  });

  it('fails on an empty answer (claude exits 0 with result "")', async () => {
    const run = await probe([], { fallback: empty() });
    expect(run).toMatchObject({ ok: false, reason: 'empty answer' });
  });

  it('fails with the timeout reason, seconds included, when the endpoint accepts and never answers', async () => {
    const pending = probe([], { fallback: hang(), timeoutS: 8 });
    // The request really reached the server and is being held open.
    await expect.poll(() => server?.hanging() ?? 0, { timeout: 8_000, interval: 50 }).toBeGreaterThan(0);
    const run = await pending;
    expect(run).toMatchObject({ ok: false, reason: 'no answer within 8s' });
    // timeout(1) on the host ends it (TERM at 8 s, KILL 5 s later), not the runner's local backstop, which
    // fires 15 s after the timeout: which of the two fired first, not a bound on how busy the machine is.
    expect(run.durationMs).toBeGreaterThanOrEqual(8_000);
    expect(run.durationMs).toBeLessThan(8_000 + 15_000);
  });

  it('fails with "authentication failed" on 401', async () => {
    const run = await probe([], { fallback: error(401, 'authentication_error', 'invalid x-api-key') });
    expect(run.ok).toBe(false);
    expect(run.reason).toMatch(/^authentication failed \(401\)/);
  });

  it('fails fast on 529 overloaded: CLAUDE_CODE_MAX_RETRIES=1 means one retry, far inside the timeout', async () => {
    const run = await probe([], { fallback: error(529, 'overloaded_error', 'Overloaded'), timeoutS: 60 });
    expect(run.ok).toBe(false);
    // The 529 ended it (a hang would end at the 60 s timeout, as "no answer within 60s"), after the first
    // try and exactly one retry: no bound on the duration needed.
    expect(run.reason).toMatch(/overloaded \(529\)/);
    expect(run.server.messages()).toHaveLength(2);
  });

  it('the run command drives a real agent loop: a tool_use writes a file, readOutput reads the result', async () => {
    const srv = await startAnthropicServer({
      handlers: [
        toolUse('Bash', { command: 'printf "from the loop\\n" > loop.txt', description: 'Write loop.txt' }),
        text('Done: wrote loop.txt.'),
      ],
    });
    server = srv;
    const cfg = configSchema.parse({
      providers: {
        glm: {
          kind: 'claude-code',
          model: MODEL,
          env: { ANTHROPIC_BASE_URL: srv.url },
          secretEnv: { ANTHROPIC_AUTH_TOKEN: 'NS_E2E_TOKEN' },
        },
      },
    }).providers['glm']!;
    const dir = mkdtempSync(path.join(tmp, 'run-'));
    const ctx: LaunchContext = {
      taskId: 'loop',
      attempt: 1,
      worktree: dir,
      stateDir: path.join(dir, '.state'),
      sessionId: '00000000-0000-4000-8000-000000000002',
      scriptedAgent: '/nonexistent',
      root: process.getuid?.() === 0,
    };
    const profile = profileFor('claude-code');
    const cmd = profile.buildRun(cfg, ctx, resolveSecrets(cfg, { NS_E2E_TOKEN: TOKEN }, 'glm'));
    // A spec's prompt starts with its front matter: "---" must not be taken for an option.
    const prompt = '---\ntitle: Write loop.txt\n---\nCreate loop.txt.';
    const argv = substitutePrompt(cmd.argv, prompt, path.join(dir, 'prompt.md'));
    const home = path.join(dir, '.home');
    mkdirSync(home);
    const r = await execa(argv[0]!, argv.slice(1), {
      env: {
        ...cmd.env,
        PATH: `${path.dirname(claude!.bin)}:${process.env['PATH'] ?? ''}`,
        HOME: home,
        LANG: 'C.UTF-8',
      },
      extendEnv: false,
      cwd: dir,
      stdin: 'ignore',
      reject: false,
      all: true,
      timeout: 120_000,
    });
    const reading = profile.readOutput(String(r.all), typeof r.exitCode === 'number' ? r.exitCode : 137);
    expect(reading.failure).toBeNull();
    expect(reading).toMatchObject({ completed: true, result: 'Done: wrote loop.txt.' });
    expect(reading.usage?.outputTokens).toBeGreaterThan(0);
    expect(readFileSync(path.join(dir, 'loop.txt'), 'utf8')).toBe('from the loop\n');
    const messages = srv.messages();
    expect(messages).toHaveLength(2);
    expect(lastUserText(messages[0]!.body)).toContain('Create loop.txt.');
    expect(JSON.stringify(messages[1]!.body?.messages)).toContain('tool_result');
  });
});
