/**
 * How a gate command runs (docs/gates.md#isolation): in the gate checkout, with only the allowed
 * environment, in its own process group with every descendant killed when it ends (hosts/gate-process.ts),
 * and inside the bwrap sandbox when one is in force (hosts/sandbox.ts).
 */
import os from 'node:os';
import type { Config } from '../config/schema.js';
import { secretNames, secretValues } from '../config/secrets.js';
import { runGateProcess, type GateProcessResult } from '../hosts/gate-process.js';
import { bwrapArgv, type GateSandbox } from '../hosts/sandbox.js';

/** What every gate command gets from the supervisor's environment, besides `gates.env`. */
export const GATE_ENV_BASE = ['PATH', 'HOME', 'LANG'] as const;

/**
 * The whole environment of a gate command: PATH, HOME, LANG and the names in `gates.env` that are set in
 * `env`, and CI=true. Nothing else of the supervisor's environment; no configured secret in any case,
 * by name or by value.
 */
export function gateEnvironment(config: Config, env: NodeJS.ProcessEnv): Record<string, string> {
  const names = secretNames(config);
  const values = new Set(secretValues(config, env));
  const out: Record<string, string> = {};
  for (const name of [...GATE_ENV_BASE, ...config.gates.env]) {
    const value = env[name];
    // Neither a secret's name nor its value under another name.
    if (value !== undefined && !names.has(name) && !values.has(value)) out[name] = value;
  }
  out['PATH'] ??= '/usr/local/bin:/usr/bin:/bin';
  out['HOME'] ??= os.homedir();
  out['CI'] = 'true';
  return out;
}

/**
 * Runs `command` (an argv) in `checkout`: stderr merged into stdout in the order printed, under the
 * sandbox when one is given (the checkout writable, `readable` readable above its private /tmp).
 */
export function runIsolated(
  command: readonly string[],
  opts: {
    checkout: string;
    env: Record<string, string>;
    timeoutMs: number;
    sandbox: GateSandbox;
    readable: readonly string[];
  },
): Promise<GateProcessResult> {
  const inner = ['sh', '-c', 'exec 2>&1; exec "$@"', 'nightshift-gate', ...command];
  const argv =
    opts.sandbox.kind === 'bwrap'
      ? bwrapArgv(inner, {
          cwd: opts.checkout,
          writable: [opts.checkout],
          readable: opts.readable,
          network: opts.sandbox.network,
        })
      : inner;
  return runGateProcess(argv, { cwd: opts.checkout, env: opts.env, timeoutMs: opts.timeoutMs });
}
