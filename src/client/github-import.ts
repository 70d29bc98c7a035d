/**
 * `nightshift import github owner/repo --label L` (docs/integrations.md#github): open issues with the
 * label, read through `gh issue list --json`, each written as a spec draft (queue/drafts.ts). An issue
 * is untrusted text: its title and body go into the draft as data (front matter values written as JSON
 * strings, which YAML reads as plain scalars, never as keys or tags), the file name comes from its
 * number and a slug of a-z, 0-9 and "-" only, and of a fenced ```nightshift (or ```yaml) block in its
 * body only the spec's own keys are taken, never `gates` (an issue does not turn review off) or
 * `source` (nightshift sets it: `github:owner/repo#N`, which is also how a later import knows the issue
 * was drafted already, through the drafts' source index). `lint` decides whether a draft is valid.
 */
import path from 'node:path';
import { z } from 'zod';
import type { WorkspacePaths } from '../config/paths.js';
import { parseStrictYaml } from '../config/yaml.js';
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { runGh, type GhResult } from '../git/gh.js';
import { draftFiles, readSources, recordSource, writeDraft, type Draft } from '../queue/drafts.js';
import { FRONT_MATTER_KEYS } from '../spec/schema.js';

export { acceptDraft, type Draft } from '../queue/drafts.js';

/** owner/repo as GitHub spells it; never starting with "-". */
export const GITHUB_REPO = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\/[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

const issueSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable().default(''),
  url: z.string().default(''),
  labels: z.array(z.object({ name: z.string() }).loose()).default([]),
});
export type Issue = z.output<typeof issueSchema>;

/** Keys an issue's block may not set: review stays as configured, and the source is nightshift's. */
const REFUSED_KEYS = new Set(['gates', 'source']);
const BLOCK_OPEN = /^(`{3,}|~{3,})[ \t]*(nightshift|yaml)[ \t]*$/;

export function ghIssueListArgs(repo: string, label: string, limit: number): string[] {
  return [
    'issue',
    'list',
    `--repo=${repo}`,
    `--label=${label}`,
    '--state=open',
    '--json=number,title,body,labels,url',
    `--limit=${limit}`,
  ];
}

/** gh's JSON answer as issues; anything else is an error naming gh. */
export function parseIssues(stdout: string): Issue[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new NightshiftError(ErrorCode.io, 'gh issue list did not print JSON', {
      hint: 'run the same gh issue list by hand to see what it says',
    });
  }
  const parsed = z.array(issueSchema).safeParse(json);
  if (!parsed.success) {
    throw new NightshiftError(ErrorCode.io, 'gh issue list printed JSON that is not a list of issues', {
      hint: 'is gh older than 2.0? `gh --version`',
    });
  }
  return parsed.data;
}

/** a-z, 0-9 and "-" of `text`, at most `max` characters. */
export function slug(text: string, max: number): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
}

export interface IssueDraft {
  /** The draft's file name without .md. */
  base: string;
  source: string;
  text: string;
  /** What was left out of the issue's block, and why. */
  notes: string[];
}

/** The first ```nightshift or ```yaml block of `body`: its text, and the body without it. */
function splitBlock(body: string): { block: string | null; rest: string } {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const open = lines.findIndex((l) => BLOCK_OPEN.test(l));
  if (open === -1) return { block: null, rest: body };
  const fence = BLOCK_OPEN.exec(lines[open]!)![1]!;
  const close = lines.findIndex(
    (l, i) => i > open && l.trim().startsWith(fence[0]!.repeat(fence.length)) && /^[`~]+$/.test(l.trim()),
  );
  if (close === -1) return { block: null, rest: body };
  return {
    block: lines.slice(open + 1, close).join('\n'),
    rest: [...lines.slice(0, open), ...lines.slice(close + 1)].join('\n'),
  };
}

/** A spec draft for `issue` of `repo` (owner/repo). Pure. */
export function issueDraft(issue: Issue, repo: string): IssueDraft {
  const source = `github:${repo}#${issue.number}`;
  const notes: string[] = [];
  const { block, rest } = splitBlock(issue.body ?? '');
  const front: [string, unknown][] = [];
  let title: unknown = issue.title;
  if (block !== null) {
    const yaml = parseStrictYaml(block, { file: `issue #${issue.number}` });
    const value: unknown = yaml.issues.length ? undefined : yaml.value;
    if (yaml.issues.length)
      notes.push(`its nightshift block is not valid YAML (${yaml.issues[0]?.message ?? ''}): defaults used`);
    else if (value !== null && (typeof value !== 'object' || Array.isArray(value)))
      notes.push('its nightshift block is not a mapping of keys to values: defaults used');
    else {
      for (const [key, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        if (REFUSED_KEYS.has(key)) notes.push(`left out "${key}": an issue cannot set it`);
        else if (!FRONT_MATTER_KEYS.includes(key)) notes.push(`left out "${key}": not a spec key`);
        else if (key === 'title') title = v;
        else front.push([key, v]);
      }
    }
  }
  const lines = [
    '---',
    `title: ${JSON.stringify(title)}`,
    ...front.map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
    `source: ${JSON.stringify(source)}`,
    '---',
    rest.trim(),
    '',
    `(Imported from ${repo}#${issue.number}${/^https:\/\/\S+$/.test(issue.url) ? `: ${issue.url}` : ''}.)`,
    '',
  ];
  const base = `gh-${issue.number}${slug(typeof title === 'string' ? title : '', 40) ? `-${slug(typeof title === 'string' ? title : '', 40)}` : ''}`;
  return { base, source, text: lines.join('\n'), notes };
}

export interface ImportResult {
  written: (Draft & { source: string; notes: string[] })[];
  /** Issues drafted by an earlier import: not drafted again. */
  known: { source: string; draft: string }[];
}

export interface ImportInput {
  paths: WorkspacePaths;
  repo: string;
  label: string;
  limit: number;
  now: number;
  env: NodeJS.ProcessEnv;
  gh?: (args: readonly string[], cwd: string) => Promise<GhResult>;
}

/** Reads the issues and writes a draft for each one not drafted before. */
export async function importGithubIssues(input: ImportInput): Promise<ImportResult> {
  const { paths, repo } = input;
  if (!GITHUB_REPO.test(repo)) {
    throw new NightshiftError(ErrorCode.usage, `not a GitHub repository: ${JSON.stringify(repo)}`, {
      hint: 'expected owner/repo, e.g. acme/app',
    });
  }
  const gh = input.gh ?? ((args, cwd) => runGh(args, { cwd, env: input.env }));
  const answer = await gh(ghIssueListArgs(repo, input.label, input.limit), paths.root);
  if (!answer.ok) {
    throw new NightshiftError(ErrorCode.io, `could not list the issues of ${repo}: ${answer.why}`, {
      hint: /auth|login|401|403/i.test(answer.stderr)
        ? 'run gh auth login (or set GH_TOKEN)'
        : `check that gh issue list --repo ${repo} works`,
    });
  }
  const issues = parseIssues(answer.stdout).sort((a, b) => a.number - b.number);
  const sources = readSources(paths);
  const result: ImportResult = { written: [], known: [] };
  for (const issue of issues) {
    const draft = issueDraft(issue, repo);
    const earlier = sources[draft.source];
    if (earlier) {
      result.known.push({ source: draft.source, draft: earlier.draft });
      continue;
    }
    const name = writeDraft(paths, draft.base, draft.text);
    const written = { name, file: path.join(paths.drafts, name) };
    recordSource(paths, draft.source, name, input.now);
    result.written.push({ ...written, source: draft.source, notes: draft.notes });
  }
  return result;
}

/** The drafts still in specs/drafts/ that were imported from `repo` (by this import or an earlier one). */
export function importedDrafts(paths: WorkspacePaths, repo: string): Draft[] {
  const sources = readSources(paths);
  const names = new Set(
    Object.entries(sources)
      .filter(([source]) => source.startsWith(`github:${repo}#`))
      .map(([, e]) => e.draft),
  );
  return draftFiles(paths).filter((d) => names.has(d.name));
}
