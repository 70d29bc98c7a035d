/**
 * The architect writes specs: `planSpecs` for a goal (nightshift plan), `followUpSpec` for a task that
 * failed or parked. Both ask an ArchitectWriter (architect-writer.ts), render each answered spec to a
 * spec file, and check the batch with `lint --strict` (spec/strict.ts). The drafts that fail are sent
 * back once with lint's problems; what still fails is dropped with its reason. What the architect wrote
 * is untrusted like any spec: the parser and lint are the boundary, and nothing in it is run here.
 */
import type { DependencyGraph } from '../core/dependencies.js';
import type { Config } from '../config/schema.js';
import { lintStrict } from '../spec/strict.js';
import { FenceBreach, newNonce } from './fence.js';
import {
  FOLLOW_UP_TOOL,
  PLAN_TOOL,
  followUpPrompt,
  followUpSchema,
  planPrompt,
  planSchema,
  renderDraft,
  repairPrompt,
  writerSystemPrompt,
  type DraftAnswer,
  type FollowUpInput,
  type RepoSummary,
} from './planner-prompt.js';
import { sumUsage, type ArchitectWriter, type Usage, type WriterRequest } from './architect-writer.js';

export interface Draft {
  id: string;
  /** The spec file's text: front matter and body. */
  text: string;
}

export interface DraftResult {
  drafts: Draft[];
  dropped: { id: string; reason: string }[];
  /** Why nothing could be drafted (the architect unreachable, unusable, or a fence breach); null otherwise. */
  failure: string | null;
  /** Whether the drafts were sent back once with lint's problems. */
  repaired: boolean;
  /** The architect's own reason (a follow-up: why this one, or why none). */
  note: string | null;
  usage: Usage | null;
}

interface Ask {
  writer: ArchitectWriter;
  config: Config;
  queued: DependencyGraph;
  purpose: WriterRequest['purpose'];
  tool: { name: string; jsonSchema: Record<string, unknown> };
  schema: WriterRequest['schema'];
  prompt: (nonce: string) => string;
  /** The specs of an answer, and the architect's note. */
  pick: (value: unknown) => { specs: DraftAnswer[]; note: string | null };
  render: (d: DraftAnswer) => string;
  nonce?: () => string;
  /** The repository's checkout details, for a writer that explores it (claude-code). */
  checkout?: WriterRequest['repo'];
}

/** Drafts for a goal, each passing `lint --strict` with the others and the queue. */
/** What planning and follow-ups share: the repo and queue the drafts must fit, and who writes them. */
interface DraftContext {
  repo: string;
  config: Config;
  queued: DependencyGraph;
  writer: ArchitectWriter;
  nonce?: () => string;
  /** Where the repository is, for a writer that explores it (claude-code). */
  checkout?: WriterRequest['repo'];
}

export function planSpecs(
  input: DraftContext & { goal: string; summary: RepoSummary },
): Promise<DraftResult> {
  const withRepo = input.repo !== defaultRepo(input.config);
  return draftWithRepair({
    ...input,
    purpose: 'plan',
    tool: PLAN_TOOL,
    schema: planSchema,
    prompt: (nonce) => planPrompt(input.goal, input.repo, input.summary, nonce),
    pick: (v) => ({ specs: planSchema.parse(v).specs, note: null }),
    render: (d) => renderDraft(d, withRepo ? { repo: input.repo } : {}),
  });
}

/** At most one follow-up of `original.id`; none when the architect says none would help. */
export function followUpSpec(input: DraftContext & { original: FollowUpInput }): Promise<DraftResult> {
  const withRepo = input.repo !== defaultRepo(input.config);
  return draftWithRepair({
    ...input,
    purpose: 'follow-up',
    tool: FOLLOW_UP_TOOL,
    schema: followUpSchema,
    prompt: (nonce) => followUpPrompt(input.original, nonce),
    pick: (v) => {
      const a = followUpSchema.parse(v);
      return { specs: a.spec ? [a.spec] : [], note: a.reason };
    },
    render: (d) =>
      renderDraft(d, { ...(withRepo ? { repo: input.repo } : {}), followUpOf: input.original.id }),
  });
}

function defaultRepo(config: Config): string | undefined {
  return config.defaults.repo ?? Object.keys(config.repos)[0];
}

async function draftWithRepair(ask: Ask): Promise<DraftResult> {
  const draw = ask.nonce ?? newNonce;
  const result: DraftResult = {
    drafts: [],
    dropped: [],
    failure: null,
    repaired: false,
    note: null,
    usage: null,
  };
  const first = await request(ask, draw(), null);
  result.usage = first.usage;
  if (!first.ok) return { ...result, failure: first.reason };
  result.note = first.note;
  let drafts = first.specs.map((d) => ({ id: d.id, text: ask.render(d) }));
  let checks = lint(ask, drafts);
  const failed = checks.filter((c) => c.problems.length);
  if (failed.length) {
    result.repaired = true;
    const again = await request(ask, draw(), failed);
    result.usage = sumUsage(result.usage, again.usage);
    if (again.ok) {
      const kept = drafts.filter((d) => !failed.some((f) => f.id === d.id));
      const fresh = again.specs
        .filter((d) => !kept.some((k) => k.id === d.id))
        .map((d) => ({ id: d.id, text: ask.render(d) }));
      drafts = [...kept, ...fresh];
      checks = lint(ask, drafts);
    }
  }
  // Dropping a draft may strand one that depends on it: check again until what is left passes.
  for (;;) {
    const bad = checks.filter((c) => c.problems.length);
    if (!bad.length) break;
    for (const c of bad) result.dropped.push({ id: c.id, reason: c.problems.join('; ') });
    drafts = drafts.filter((d) => !bad.some((b) => b.id === d.id));
    checks = lint(ask, drafts);
  }
  result.drafts = drafts;
  return result;
}

function lint(ask: Ask, drafts: readonly Draft[]): { id: string; text: string; problems: string[] }[] {
  const checks = lintStrict(
    drafts.map((d) => ({ file: `${d.id}.md`, text: d.text })),
    ask.config,
    ask.queued,
    { architectWritten: true },
  );
  return drafts.map((d, i) => ({ ...d, problems: checks[i]?.problems ?? [] }));
}

type Asked =
  | { ok: true; specs: DraftAnswer[]; note: string | null; usage: Usage | null }
  | { ok: false; reason: string; usage: Usage | null };

async function request(
  ask: Ask,
  nonce: string,
  failed: readonly { text: string; problems: string[] }[] | null,
): Promise<Asked> {
  let prompt: string;
  try {
    prompt = ask.prompt(nonce);
    if (failed) prompt += `\n\n${repairPrompt(failed, nonce)}`;
  } catch (e) {
    if (e instanceof FenceBreach)
      return { ok: false, reason: `architect not asked: ${e.message}`, usage: null };
    throw e;
  }
  const answer = await ask.writer({
    purpose: ask.purpose,
    system: writerSystemPrompt(nonce, ask.tool.name),
    prompt,
    toolName: ask.tool.name,
    jsonSchema: ask.tool.jsonSchema,
    schema: ask.schema,
    ...(ask.checkout ? { repo: ask.checkout } : {}),
  });
  if (!answer.ok) return answer;
  const picked = ask.schema.safeParse(answer.value);
  if (!picked.success)
    return { ok: false, reason: 'the answer does not match the schema', usage: answer.usage };
  return { ok: true, ...ask.pick(picked.data), usage: answer.usage };
}
