/**
 * Strict YAML for config files and spec front matter: YAML 1.2 core schema, unique keys, no custom
 * tags, no merge keys, a small alias budget, no recursive aliases and no prototype-shaped keys.
 * Nothing here can evaluate code: the `yaml` package only builds plain data.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { SpecIssue } from '../core/errors.js';
import { fieldPath } from './issues.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;

export interface StrictYaml {
  value: unknown;
  issues: SpecIssue[];
  /** Line (1-based, in the whole file) of the node at a path, when known. */
  lineOf: (path: readonly PropertyKey[]) => number | undefined;
}

export interface StrictYamlOptions {
  file: string;
  /** Lines before this text in its file (front matter starts after the opening `---`). */
  lineOffset?: number;
  maxAliases?: number;
}

export function parseStrictYaml(text: string, opts: StrictYamlOptions): StrictYaml {
  const offset = opts.lineOffset ?? 0;
  const maxAliases = opts.maxAliases ?? 16;
  const counter = new LineCounter();
  const issues: SpecIssue[] = [];
  const lineAt = (pos: number | undefined): number | undefined =>
    pos === undefined ? undefined : counter.linePos(pos).line + offset;
  // Set once the document is parsed: the field (key path) at a position, for messages.
  let fieldAt: (pos: number) => string | undefined = () => undefined;
  const add = (message: string, pos?: number, field?: string): void => {
    const line = lineAt(pos);
    const named = field ?? (pos === undefined ? undefined : fieldAt(pos));
    issues.push({ file: opts.file, ...(line ? { line } : {}), ...(named ? { field: named } : {}), message });
  };

  const depthProblem = nestingTooDeep(text);
  if (depthProblem !== null) {
    // The line counter is only filled in by parseDocument, which has not run: count lines here.
    const line = text.slice(0, depthProblem).split('\n').length + offset;
    issues.push({
      file: opts.file,
      line,
      message: `YAML is nested more than ${MAX_DEPTH} levels deep; flatten it`,
    });
    return { value: undefined, issues, lineOf: () => undefined };
  }

  // The parser builds one Error object per problem, and hostile text can have tens of thousands of
  // them: capturing a stack trace for each costs seconds. Nothing reads those stacks.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {
      version: '1.2',
      schema: 'core',
      strict: true,
      // Checked in checkNodes instead: the parser's own check compares every pair of keys, which
      // takes most of a second on 64 KiB of keys.
      uniqueKeys: false,
      merge: false,
      customTags: [],
      // Without this, explicit !!binary, !!set, !!omap, !!pairs and !!timestamp still resolve (YAML 1.1 types).
      resolveKnownTags: false,
      prettyErrors: false,
      lineCounter: counter,
    });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  fieldAt = (pos) => fieldPath(pathAt(doc.contents, pos)) || undefined;
  for (const err of [...doc.errors, ...doc.warnings]) {
    const source = text.slice(err.pos[0], err.pos[1]).trim();
    const found = source
      ? `; found ${JSON.stringify(source.length > 40 ? `${source.slice(0, 37)}...` : source)}`
      : '';
    const message =
      err.code === 'DUPLICATE_KEY'
        ? `duplicate key${found ? ` ${JSON.stringify(source)}` : ''}: each key may appear once`
        : err.code === 'TAG_RESOLVE_FAILED'
          ? `expected a plain YAML value; found the tag ${source || err.message.split(' at line')[0]} — custom and language tags are not allowed`
          : `invalid YAML: ${err.message.split(' at line')[0]}${found}`;
    add(message, err.pos[0]);
  }
  if (issues.length === 0) checkNodes(doc, maxAliases, add, lineAt);

  let value: unknown;
  if (issues.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: maxAliases * 4 });
    } catch (err) {
      add(`YAML aliases expand too far (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  // Like doc.getIn(path, true), but each mapping is indexed once: zod can report thousands of unknown
  // keys, and a linear search per key is quadratic.
  const index = new Map<unknown, Map<unknown, unknown>>();
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    let node: unknown = doc.contents;
    for (const step of path) {
      if (isMap(node)) {
        let byKey = index.get(node);
        if (!byKey) {
          byKey = new Map();
          for (const pair of node.items) {
            const key = isScalar(pair.key) ? pair.key.value : pair.key;
            if (!byKey.has(key)) byKey.set(key, pair.value);
          }
          index.set(node, byKey);
        }
        node = byKey.get(step);
      } else if (isSeq(node) && typeof step === 'number') {
        node = node.items[step];
      } else {
        return undefined;
      }
    }
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return lineAt(range?.[0]);
  };
  return { value, issues, lineOf };
}

function checkNodes(
  doc: Document,
  maxAliases: number,
  add: (m: string, pos?: number, field?: string) => void,
  lineOfPos: (pos: number | undefined) => number | undefined,
) {
  let aliases = 0;
  visit(doc, {
    Map(_key, map) {
      const seen = new Map<unknown, number | undefined>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        const pos = (pair.key as { range?: number[] } | null)?.range?.[0];
        if (seen.has(key)) {
          const first = lineOfPos(seen.get(key));
          add(
            `duplicate key ${JSON.stringify(String(key))}: each key may appear once${first ? ` (first on line ${first})` : ''}`,
            pos,
          );
        } else {
          seen.set(key, pos);
        }
      }
      return undefined;
    },
    Pair(_key, pair) {
      const key = pair.key;
      if (key !== null && !isScalar(key)) {
        add(
          `keys must be plain strings; found ${isMap(key) ? 'a mapping' : isSeq(key) ? 'a list' : 'an alias'} as a key`,
          (key as { range?: number[] }).range?.[0],
        );
        return visit.BREAK;
      }
      if (isScalar(key) && typeof key.value === 'string' && FORBIDDEN_KEYS.has(key.value)) {
        add(`the key "${key.value}" is not allowed`, key.range?.[0], key.value);
      }
      return undefined;
    },
    Alias(_key, alias, path) {
      aliases += 1;
      if (aliases > maxAliases) {
        add(
          `expected at most ${maxAliases} YAML aliases; found more (*${alias.source} is one too many): write the values out`,
          alias.range?.[0],
        );
        return visit.BREAK;
      }
      const target = alias.resolve(doc);
      if (!target) {
        add(
          `unknown YAML alias *${alias.source}: define the anchor &${alias.source} before it`,
          alias.range?.[0],
        );
        return visit.BREAK;
      }
      if (path.some((ancestor) => ancestor === target)) {
        add(
          `recursive YAML alias *${alias.source}: it points into itself; write the value out`,
          alias.range?.[0],
        );
        return visit.BREAK;
      }
      if ((isMap(target) || isSeq(target)) && containsAlias(target)) {
        add(
          `alias *${alias.source} points at a collection that itself uses aliases; write the values out`,
          alias.range?.[0],
        );
        return visit.BREAK;
      }
      return undefined;
    },
  });
}

/** The key path (as for fieldPath) of the innermost mapping entry or list item that spans `pos`. */
function pathAt(root: unknown, pos: number): PropertyKey[] {
  const out: PropertyKey[] = [];
  // A node's range is [start, end of value, end with trailing blank and comment]: the middle one, so a
  // position on the next line is not taken as part of this entry.
  const spans = (start: number | undefined, end: number | undefined) =>
    start !== undefined && end !== undefined && start <= pos && pos < end;
  const rangeOf = (node: unknown) => (node as { range?: [number, number, number] } | null)?.range;
  let node = root;
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) =>
        spans(rangeOf(p.key)?.[0], rangeOf(p.value)?.[1] ?? rangeOf(p.key)?.[1]),
      );
      const key = pair && isScalar(pair.key) ? pair.key.value : undefined;
      if (!pair || (typeof key !== 'string' && typeof key !== 'number')) break;
      out.push(String(key));
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => spans(rangeOf(item)?.[0], rangeOf(item)?.[1]));
      if (index === -1) break;
      out.push(index);
      node = node.items[index];
    } else {
      break;
    }
  }
  return out;
}

function containsAlias(node: unknown): boolean {
  let found = false;
  visit(node as Document, {
    Alias() {
      found = true;
      return visit.BREAK;
    },
  });
  return found;
}

/** Offset where flow or block nesting first passes MAX_DEPTH, or null. Cheap, before parsing. */
function nestingTooDeep(text: string): number | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > MAX_DEPTH) return i;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth -= 1;
  }
  let lineStart = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text.charCodeAt(i) === 0x0a) {
      // Block nesting shows as the column where a line's content starts, counting compact
      // indicators ("- - - x", "? ? x") as indentation: each opens a level without new indentation.
      let col = lineStart;
      for (;;) {
        const c = text.charCodeAt(col);
        const next = text.charCodeAt(col + 1);
        if (c === 0x20 || c === 0x09) col += 1;
        else if ((c === 0x2d || c === 0x3f || c === 0x3a) && (next === 0x20 || next === 0x09)) col += 2;
        else break;
      }
      if (col - lineStart > MAX_DEPTH * 4) return lineStart;
      lineStart = i + 1;
    }
  }
  return null;
}
