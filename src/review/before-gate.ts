/**
 * The repo's beforeGate hook (docs/integrations.md#setup-hooks): run in the isolated gate checkout before
 * any gate, exactly as a gate command runs (isolation.ts: the allowed environment, the sandbox, every
 * descendant killed at its end). Its output, redacted, goes to the gate log. A failure or a timeout is
 * the repo's setup's problem, not the branch's: a HookError, which parks the task for a person with the
 * reason (no attempt is used), never a failed gate.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { secretRedactor } from '../config/secrets.js';
import { parseDuration } from '../core/duration.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { GateSandbox } from '../hosts/sandbox.js';
import { hookArgv } from '../hosts/hooks.js';
import { clean, tail } from './evidence.js';
import { gateEnvironment, runIsolated } from './isolation.js';

export async function runBeforeGate(opts: {
  config: Config;
  env: NodeJS.ProcessEnv;
  repo: string;
  taskId: string;
  checkout: string;
  isolation: { sandbox: GateSandbox; readable: readonly string[] };
  /** The gate log the hook's output is appended to. */
  log: string;
}): Promise<void> {
  const hook = opts.config.repos[opts.repo]?.hooks.beforeGate;
  if (!hook) return;
  const timeoutMs = parseDuration(hook.timeout) ?? 600_000;
  const redact = secretRedactor(opts.config, opts.env);
  const result = await runIsolated(hookArgv(hook.command), {
    checkout: opts.checkout,
    env: gateEnvironment(opts.config, opts.env),
    timeoutMs,
    sandbox: opts.isolation.sandbox,
    readable: opts.isolation.readable,
  });
  const output = redact(clean(result.output));
  const outcome = result.timedOut
    ? `timed out after ${hook.timeout}`
    : result.exitCode === 0
      ? 'passed'
      : `failed with exit ${result.exitCode}`;
  mkdirSync(path.dirname(opts.log), { recursive: true });
  appendFileSync(opts.log, `nightshift: hook beforeGate in ${opts.checkout}: ${outcome}\n${output}\n`, {
    mode: 0o600,
  });
  if (result.exitCode === 0 && !result.timedOut) return;
  throw new NightshiftError(
    ErrorCode.io,
    `the beforeGate hook of repo ${opts.repo} ${outcome} in the gate checkout, so no gate ran (the branch is not blamed): ${tail(output, 400)}`,
    {
      taskId: opts.taskId,
      hint: `see ${opts.log}; fix repos.${opts.repo}.hooks.beforeGate in nightshift.config.yaml (it runs under the gates' sandbox and environment, docs/gates.md), then \`nightshift reload\` and \`nightshift retry ${opts.taskId}\``,
    },
  );
}
