/**
 * Spec files: Markdown with YAML front matter (DESIGN.md §4). The bytes are checked (size, encoding,
 * control characters), the front matter is parsed strictly and validated, and every field that can
 * reach a path, a tmux name, a git ref or an argv is validated here, once.
 *
 * Never evaluates anything: `---js` and friends are refused, not interpreted.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { SpecError, type SpecIssue } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { idFromFileName, idProblem, type TaskId } from '../core/ids.js';
import type { TaskSpec } from '../core/task.js';
import type { Config } from '../config/schema.js';
import { describeFound, zodIssues } from '../config/issues.js';
import { parseStrictYaml } from '../config/yaml.js';
import { BIDI, FRONT_MATTER_KEYS, SOURCE_PATTERN, frontMatterSchema, type FrontMatter } from './schema.js';

export const MAX_SPEC_BYTES = 1024 * 1024;
const MAX_FRONT_MATTER_BYTES = 64 * 1024;
const FENCE = /^---[ \t]*$/;
const TAGGED_FENCE = /^---([A-Za-z][\w-]*)[ \t]*$/;
const CONTROL_LINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The key a front matter line sets (`key:` or `- key:`), for naming the field of a bad line. */
const FRONT_KEY = /^[ \t]*(?:-[ \t]+)*["']?([A-Za-z_][\w-]*)["']?[ \t]*:/;

export interface ParsedSpec {
  id: TaskId;
  spec: TaskSpec;
  /** The normalised file text (UTF-8, LF): the immutable spec.md stored with the task. */
  text: string;
  body: string;
  dedupKey: string;
  /** The task this one follows up (`followUpOf:`, docs/architect.md#follow-ups), or null. */
  followUpOf?: TaskId | null;
  warnings: SpecIssue[];
}

export interface ParseOptions {
  /** Path used in messages and for the default id. */
  file: string;
  config: Config;
}

/** Parses a spec or throws a SpecError listing every problem found. */
export function parseSpec(bytes: Uint8Array, opts: ParseOptions): ParsedSpec {
  const result = checkSpec(bytes, opts);
  if (result.errors.length || !result.spec) throw new SpecError(result.errors, result.warnings);
  return result.spec;
}

export interface SpecCheck {
  spec: ParsedSpec | null;
  errors: SpecIssue[];
  warnings: SpecIssue[];
}

/** Like parseSpec, but returns errors and warnings instead of throwing (for `lint`). */
export function checkSpec(bytes: Uint8Array, opts: ParseOptions): SpecCheck {
  const file = opts.file;
  const errors: SpecIssue[] = [];
  const warnings: SpecIssue[] = [];
  const fail = (message: string, line?: number, field?: string): SpecCheck => ({
    spec: null,
    errors: [...errors, { file, ...(line ? { line } : {}), ...(field ? { field } : {}), message }],
    warnings,
  });

  // 1. Bytes: size and encoding.
  if (bytes.length > MAX_SPEC_BYTES) {
    return fail(
      `the file is ${bytes.length} bytes; specs are limited to 1 MiB. Move large material into the repo`,
    );
  }
  if (bytes.length === 0) return fail('the file is empty; a spec needs at least a title and some text');
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return fail('the file is UTF-16; save it as UTF-8');
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1)
    return fail(
      'the file contains NUL bytes (binary or UTF-16?); specs are UTF-8 text',
      lineAtByte(bytes, nul),
    );
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  const content = bytes.subarray(start);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return fail('the file is not valid UTF-8; save it as UTF-8', invalidUtf8Line(content));
  }
  text = text.replace(/\r\n?/g, '\n');
  const lines = text.split('\n');

  // 2. Front matter boundaries.
  let frontLines: string[] = [];
  let bodyStart = 0;
  const first = lines[0] ?? '';
  const tagged = TAGGED_FENCE.exec(first);
  if (tagged) {
    return fail(
      `front matter with a language tag ("---${tagged[1]}") is not supported and is never evaluated; use plain --- and YAML`,
      1,
    );
  }
  if (FENCE.test(first)) {
    const close = lines.findIndex((line, i) => i > 0 && FENCE.test(line));
    if (close === -1)
      return fail('front matter opened with --- is never closed; add a line with --- after it', 1);
    frontLines = lines.slice(1, close);
    bodyStart = close + 1;
  }
  const frontText = frontLines.join('\n');
  if (Buffer.byteLength(frontText) > MAX_FRONT_MATTER_BYTES) {
    return fail('the front matter is over 64 KiB; keep long text in the body', 2);
  }
  frontLines.forEach((line, i) => {
    const bad = CONTROL_LINE.exec(line) ?? BIDI.exec(line);
    if (!bad) return;
    const field = FRONT_KEY.exec(line)?.[1];
    const what = CONTROL_LINE.test(line)
      ? 'front matter contains control characters or terminal escapes'
      : 'front matter contains invisible bidirectional-override characters';
    errors.push({
      file,
      line: i + 2,
      ...(field ? { field } : {}),
      message: `${what}: expected plain text; found ${codePoint(bad[0])} at column ${bad.index + 1}`,
    });
  });
  if (errors.length) return { spec: null, errors, warnings };
  const body = lines.slice(bodyStart).join('\n');
  lines.slice(bodyStart).forEach((line, i) => {
    if (CONTROL_LINE.test(line)) {
      warnings.push({
        file,
        line: bodyStart + i + 1,
        message: 'body contains control characters or terminal escapes; they are kept as data, shown escaped',
      });
    } else if (BIDI.test(line)) {
      warnings.push({
        file,
        line: bodyStart + i + 1,
        message: 'body contains bidirectional-override characters',
      });
    }
  });

  // 3. YAML and schema.
  let fm: FrontMatter = {};
  let lineOf: (path: readonly PropertyKey[]) => number | undefined = () => undefined;
  if (frontText.trim() !== '') {
    const yaml = parseStrictYaml(frontText, { file, lineOffset: 1 });
    lineOf = yaml.lineOf;
    if (yaml.issues.length) return { spec: null, errors: yaml.issues, warnings };
    const value = yaml.value;
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      return fail(
        `front matter must be a mapping of keys to values (key: value); found ${describeFound(value)}`,
        2,
      );
    }
    const parsed = frontMatterSchema.safeParse(value ?? {}, { reportInput: true });
    if (!parsed.success) {
      // Unknown top-level keys, from zod's issue codes (not from the text zodIssues writes for them).
      const unknownKeys = new Set(
        parsed.error.issues.flatMap((i) =>
          i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : [],
        ),
      );
      const issues = zodIssues(parsed.error, file, yaml.lineOf).map((issue) => {
        const suggestion = issue.field && unknownKeys.has(issue.field) ? suggestKey(issue.field) : null;
        return suggestion ? { ...issue, message: `unknown key; did you mean "${suggestion}"?` } : issue;
      });
      return { spec: null, errors: issues, warnings };
    }
    fm = parsed.data;
  }

  // 4. Fields resolved against the config.
  const config = opts.config;
  const at = (...path: PropertyKey[]) => {
    const line = lineOf(path);
    return line ? { line } : {};
  };
  const heading = firstHeading(lines.slice(bodyStart));
  const title = fm.title ?? heading;
  if (!title)
    errors.push({
      file,
      field: 'title',
      message: 'required: add `title:` to the front matter or a `# Heading` to the body',
    });
  else if (CONTROL_LINE.test(title) || BIDI.test(title) || title.length > 200) {
    const headingLine = bodyStart + lines.slice(bodyStart).findIndex((l) => /^#[ \t]/.test(l)) + 1;
    errors.push({
      file,
      ...(headingLine > bodyStart ? { line: headingLine } : {}),
      field: 'title',
      message: `the heading used as title must be plain text of at most 200 characters; found ${
        title.length > 200 ? `${title.length} characters` : 'control or bidirectional-override characters'
      }`,
    });
  }

  const id = fm.id ?? idFromFileName(path.basename(file));
  const idIssue = idProblem(id);
  // The spec is the boundary where a task id is born: checked here, a TaskId from here on.
  const taskId = idIssue === null ? (id as TaskId) : null;
  if (idIssue) {
    errors.push({
      file,
      ...at('id'),
      field: 'id',
      message: fm.id
        ? idIssue
        : `no usable id in the file name (${idIssue}); add \`id:\` to the front matter`,
    });
  }

  const repoNames = Object.keys(config.repos);
  const repo = fm.repo ?? config.defaults.repo ?? repoNames[0] ?? 'default';
  if (repoNames.length && !repoNames.includes(repo)) {
    errors.push({
      file,
      ...at('repo'),
      field: 'repo',
      message: `unknown repo "${repo}"; expected one the config names: ${repoNames.join(', ')}`,
    });
  }
  const providerNames = Object.keys(config.providers);
  // As for repos: a config that names no providers (lint outside a workspace) does not check them.
  if (fm.provider && providerNames.length && !providerNames.includes(fm.provider)) {
    errors.push({
      file,
      ...at('provider'),
      field: 'provider',
      message: `unknown provider "${fm.provider}"; expected one the config names: ${providerNames.join(', ')}`,
    });
  }
  const self = fm.dependsOn?.indexOf(id) ?? -1;
  if (self !== -1) {
    errors.push({
      file,
      ...at('dependsOn', self),
      field: `dependsOn[${self}]`,
      message: `a task cannot depend on itself; expected other task ids, found its own id "${id}"`,
    });
  }

  if (fm.followUpOf !== undefined && fm.followUpOf === id) {
    errors.push({
      file,
      ...at('followUpOf'),
      field: 'followUpOf',
      message: `a spec cannot follow up itself; expected the id of the task it follows up, found its own id "${id}"`,
    });
  }

  const tests = fm.tests ?? [];
  if (!fm.tests || tests.length === 0) {
    warnings.push({
      file,
      field: 'tests',
      message: 'no tests: name the exact tests the change must add and pass',
    });
  }
  tests.forEach((name, i) => {
    if (!PLAIN_IDENTIFIER.test(name)) {
      warnings.push({
        file,
        ...at('tests', i),
        field: `tests[${i}]`,
        message: `"${name}" is not a plain identifier (letters, digits, _)`,
      });
    }
  });
  if (!fm.stop)
    warnings.push({ file, field: 'stop', message: 'no stop condition: say when the executor should stop' });
  const words = body.split(/\s+/).filter(Boolean).length;
  if (words < 20) {
    warnings.push({ file, message: `the body has ${words} words; under 20 rarely tells an executor enough` });
  }
  if (errors.length || !title || !taskId) return { spec: null, errors, warnings };

  const repoConfig = config.repos[repo];
  const spec: TaskSpec = {
    title,
    repo,
    base: fm.base ?? repoConfig?.main ?? 'main',
    provider: fm.provider ?? null,
    priority: fm.priority ?? config.defaults.priority,
    // The front matter schema checked each with the task id rules (nameSchema is idProblem's).
    dependsOn: [...new Set(fm.dependsOn ?? [])] as TaskId[],
    timeoutMs: parseDuration(fm.timeout ?? config.defaults.timeout) ?? 0,
    idleMs: parseDuration(fm.idle ?? config.defaults.idle) ?? 0,
    attempts: fm.attempts ?? config.defaults.attempts,
    reviewRounds: fm.reviewRounds ?? config.defaults.reviewRounds,
    tests,
    stop: fm.stop ?? null,
    gates: fm.gates ? [...new Set(fm.gates)] : null,
    source: path.basename(file),
  };
  return {
    spec: {
      id: taskId,
      spec,
      text,
      body,
      dedupKey: dedupKey(spec, body),
      // Checked with the task id rules by the front matter schema (nameSchema).
      followUpOf: (fm.followUpOf ?? null) as TaskId | null,
      warnings,
    },
    errors,
    warnings,
  };
}

/** Hash of repo, base, body and tests: the same work asked twice has the same key. */
export function dedupKey(spec: Pick<TaskSpec, 'repo' | 'base' | 'tests'>, body: string): string {
  return createHash('sha256')
    .update(JSON.stringify([spec.repo, spec.base, body.trim(), spec.tests]))
    .digest('hex')
    .slice(0, 32);
}

/** The first `# ` heading's text (linear time: no backtracking regex over the body). */
function firstHeading(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    if (line.startsWith('# ') || line.startsWith('#\t')) {
      const text = line
        .slice(2)
        .trim()
        .replace(/[ \t]#+$/, '')
        .trim();
      if (text) return text;
    }
  }
  return undefined;
}

/** 1-based line of a byte offset; LF, CRLF and a lone CR each end a line. */
function lineAtByte(bytes: Uint8Array, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) {
    if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) line += 1;
  }
  return line;
}

/**
 * Line of the first malformed UTF-8 sequence. Lines are decoded one at a time (CR and LF never
 * occur inside a multi-byte sequence), so a U+FFFD that is really in the file is not mistaken for it.
 */
function invalidUtf8Line(bytes: Uint8Array): number | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a || bytes[i] === 0x0d) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return lineAtByte(bytes, start);
      }
      start = i + 1;
    }
  }
  return undefined;
}

/** A character as U+XXXX, for messages about invisible characters. */
function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function suggestKey(key: string): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '');
  const k = norm(key);
  const singular = (s: string) => s.replace(/s$/, '');
  return (
    FRONT_MATTER_KEYS.find((known) => norm(known) === k || singular(norm(known)) === singular(k)) ?? null
  );
}

/**
 * The `source:` of a spec's front matter (github:owner/repo#N, set by `nightshift import github`), or
 * null. For a spec that was validated when it was queued: anything unexpected reads as no source.
 */
export function specSource(text: string): string | null {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (!FENCE.test(lines[0] ?? '')) return null;
  const close = lines.findIndex((line, i) => i > 0 && FENCE.test(line));
  if (close === -1) return null;
  const yaml = parseStrictYaml(lines.slice(1, close).join('\n'), { file: 'spec.md', lineOffset: 1 });
  const value: unknown = yaml.issues.length ? null : yaml.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const source = (value as Record<string, unknown>)['source'];
  return typeof source === 'string' && SOURCE_PATTERN.test(source) ? source : null;
}
