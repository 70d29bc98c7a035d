/**
 * The scripted simulator (scripted-agent.ts): not an AI. It follows the `nightshift-script` block in its
 * prompt, for demos and tests. Run: `node <agent> --prompt-file <file>`; probe: `node <agent> --probe
 * <nonce> --probe-behaviour <ok|silent|hang|fail>` (from `scripted.probe`), judged like any text answer.
 */
import type { ProviderConfig } from '../config/schema.js';
import { jsonLines, judgeText, layerEnv, str } from './common.js';
import { reportedCost, tokenCount } from '../core/usage.js';
import { failure, lastLine, oneLine } from './failures.js';
import {
  PROMPT_FILE_TOKEN,
  type ExecutorCommand,
  type LaunchContext,
  type OutputReading,
  type ProviderProfile,
} from './types.js';

function buildScripted(
  cfg: ProviderConfig,
  ctx: LaunchContext,
  secrets: Record<string, string>,
  nonce: string | null,
): ExecutorCommand {
  const { env, secretKeys } = layerEnv(cfg, secrets, {}, {});
  const mode =
    nonce === null
      ? ['--prompt-file', PROMPT_FILE_TOKEN]
      : ['--probe', nonce, '--probe-behaviour', cfg.scripted?.probe ?? 'ok'];
  return { argv: ['node', ctx.scriptedAgent, ...mode], env, secretKeys, stdin: 'null' };
}

/** The sum of the `usage` lines the script's `usage` steps print (each clamped), or null with none. */
function readUsage(objects: Record<string, unknown>[]): OutputReading['usage'] {
  const lines = objects.filter((o) => o['type'] === 'usage');
  if (lines.length === 0) return null;
  const costs = lines.map((o) => reportedCost(o['cost_usd']));
  return {
    inputTokens: lines.reduce((n, o) => n + tokenCount(o['input_tokens']), 0),
    outputTokens: lines.reduce((n, o) => n + tokenCount(o['output_tokens']), 0),
    // A line without a cost makes the run's cost unknown (priced from config, if there is a price).
    reportedCostUsd: costs.some((c) => c === null) ? null : costs.reduce<number>((n, c) => n + (c ?? 0), 0),
  };
}

export function readScriptedOutput(log: string, exitCode: number): OutputReading {
  const objects = jsonLines(log);
  const result = objects.filter((o) => o['type'] === 'result').at(-1);
  const text = result ? str(result['result']) : null;
  let fail: OutputReading['failure'] = null;
  if (exitCode !== 0) {
    fail = failure(
      'exit-nonzero',
      `scripted agent exited ${exitCode}${lastLine(log) ? `: ${lastLine(log)}` : ''}`,
    );
  } else if (!result) {
    fail = failure('empty-output', 'scripted agent finished without a result line');
  } else if (result['is_error'] === true) {
    fail = failure('agent-error', oneLine(text ?? '') || 'scripted agent reported an error');
  }
  return { completed: fail === null, result: text, usage: readUsage(objects), failure: fail };
}

export const scripted: ProviderProfile = {
  kind: 'scripted',
  binary: () => 'node',
  versionArgv: () => ['node', '--version'],
  buildRun: (cfg, ctx, secrets) => buildScripted(cfg, ctx, secrets, null),
  buildProbe: (cfg, ctx, secrets, nonce) => buildScripted(cfg, ctx, secrets, nonce),
  judgeProbe: judgeText,
  readOutput: readScriptedOutput,
};
