/**
 * What a config reload (`nightshift reload`, SIGHUP) may change while the daemon runs. Pure: the old and
 * the new config in, the config to run with and the changes sorted into applied and needing a restart.
 *
 * Live: providers' concurrency, timeouts, model, env and command; every gate but the sandbox; the
 * defaults (timeouts, retries, review rounds, monitor and liveness periods, retention, log cap); lint.
 * Restart: hosts and repos (connected and opened at start), the architect (built at start), the gate
 * sandbox (probed once), a provider added or removed, and a provider's kind, hosts and secretEnv (the
 * redactor knows the secret values from the start: a new secret must never reach a log unredacted).
 */
import type { Config } from './schema.js';

export interface ConfigChange {
  /** Dotted path of the changed field, e.g. `providers.p.concurrency`. */
  path: string;
  /** `1 → 2` for numbers and booleans; null for anything else (values may be long, or sensitive). */
  values: string | null;
  /** Why it waits for a restart (restart-only changes). */
  why?: string;
}

export interface ReloadPlan {
  /** The config to run with: the new one, with restart-only fields kept as they were. */
  config: Config;
  applied: ConfigChange[];
  needsRestart: ConfigChange[];
}

type Path = readonly string[];

/** Why a change at `path` needs a restart, or null when it can be applied live. */
export function restartReason(path: Path): string | null {
  const [top, name, field] = path;
  if (top === 'hosts') return 'hosts are connected when the daemon starts';
  // Setup hooks are read at each launch and gate run, and a reload lifts a repo's hook-failing hold.
  if (top === 'repos' && field !== 'hooks') return 'repositories are opened when the daemon starts';
  if (top === 'architect') return 'the architect is set up when the daemon starts';
  if (top === 'gates' && name === 'sandbox') return 'the gate sandbox is probed once per daemon';
  // The notifiers' URLs are secrets: the redactor knows them from the start. `window` applies live.
  if (top === 'notify') return 'notifiers (their URLs are secrets) are set up when the daemon starts';
  if (top === 'providers') {
    if (field === undefined) return 'providers are set up when the daemon starts';
    if (field === 'secretEnv') return 'secret values are known to the redactor from the start';
    if (field === 'kind' || field === 'hosts') return "a provider's kind and hosts are set up at start";
  }
  return null;
}

export function planReload(current: Config, next: Config): ReloadPlan {
  const changes = diff(current, next, []);
  const config = structuredClone(current);
  const applied: ConfigChange[] = [];
  const needsRestart: ConfigChange[] = [];
  for (const path of changes) {
    const before = get(current, path);
    const after = get(next, path);
    const values = scalar(before) && scalar(after) ? `${String(before)} → ${String(after)}` : null;
    const why = restartReason(path);
    if (why) {
      needsRestart.push({ path: path.join('.'), values, why });
      continue;
    }
    set(config, path, structuredClone(after));
    applied.push({ path: path.join('.'), values });
  }
  return { config, applied, needsRestart };
}

/** One line for the daemon's log and the command's output. */
export function describePlan(plan: ReloadPlan): string {
  const show = (c: ConfigChange) => (c.values ? `${c.path} (${c.values})` : c.path);
  const parts = [plan.applied.length ? `applied ${plan.applied.map(show).join(', ')}` : 'nothing to apply'];
  if (plan.needsRestart.length) {
    parts.push(
      `kept until a restart (nightshift stop, then start the daemon): ${plan.needsRestart.map((c) => `${show(c)}: ${c.why ?? ''}`).join('; ')}`,
    );
  }
  return parts.join('; ');
}

/**
 * Puts `next`'s sections into `target`, the one config object the daemon's parts share (the supervisor,
 * the fleet, the review pipeline and its gate runs all hold this object, and read it when they act), so
 * every one of them sees the reloaded values from its next decision on.
 */
export function replaceConfig(target: Config, next: Config): void {
  const t = target as Record<string, unknown>;
  for (const key of Object.keys(t)) if (!(key in next)) delete t[key];
  Object.assign(t, next);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalar(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

/** The paths where two configs differ: objects are compared key by key, anything else as a whole. */
function diff(a: unknown, b: unknown, path: Path): Path[] {
  if (isPlain(a) && isPlain(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diff(a[k], b[k], [...path, k]));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

function get(obj: unknown, path: Path): unknown {
  let v: unknown = obj;
  for (const k of path) v = isPlain(v) ? v[k] : undefined;
  return v;
}

function set(obj: unknown, path: Path, value: unknown): void {
  let v = obj as Record<string, unknown>;
  for (const k of path.slice(0, -1)) {
    if (!isPlain(v[k])) v[k] = {};
    v = v[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete v[last];
  else v[last] = value;
}
