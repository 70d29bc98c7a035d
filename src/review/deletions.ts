/**
 * The deletions gate as pure functions: parse `git diff -U0` output, find the definitions each removed and
 * added line declares, and report the ones that were removed and not put back.
 *
 * This is a line-based reading, not a parser. It recognises the usual shapes of:
 * - TypeScript/JavaScript: function declarations, classes, `export const/let/var/enum/interface/type`,
 *   `export default`, `export { a, b as c }`, `export * from`, class and object methods, class fields
 *   holding arrow functions, and top-level `const f = (…) => …` / `const f = function …`;
 * - Python: `def`, `async def`, `class`;
 * - Go: `func` (methods keyed as `Type.Name`), top-level `type X …`;
 * - Rust: `fn` (any visibility/qualifiers), `struct`, `enum`, `trait`, `union`, `type`, `impl`,
 *   `macro_rules!`.
 * A definition removed in one place and added in another (a move, or an edited signature) under the same
 * name is not a deletion — unless it lost its `export`/`pub`, which is reported as such.
 */

export type Language = 'js' | 'python' | 'go' | 'rust';

export interface DiffLine {
  /** 1-based line number: in the old file for a removed line, in the new file for an added one. */
  line: number;
  text: string;
}

export interface DiffFile {
  /** Path before the change; null for an added file. */
  oldPath: string | null;
  /** Path after the change; null for a deleted file. */
  newPath: string | null;
  removed: DiffLine[];
  added: DiffLine[];
}

/** C-style quoted path as git prints it for unusual names: `"a/sp\"ace"`. */
function unquote(text: string): string {
  if (!text.startsWith('"') || !text.endsWith('"') || text.length < 2) return text;
  const body = text.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[++i] ?? '';
    const octal = /^[0-7]{3}/.exec(body.slice(i));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 2;
    } else {
      const escapes: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11 };
      bytes.push(escapes[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `a/src/x.ts` → `src/x.ts`; `/dev/null` → null (git adds a tab after names with spaces). */
function headerPath(text: string): string | null {
  const name = unquote(text.replace(/\t$/, ''));
  if (name === '/dev/null') return null;
  return name.replace(/^[ab]\//, '');
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * Files, removed lines and added lines of a unified diff (`git diff -U0 --src-prefix=a/ --dst-prefix=b/`).
 * Hunk lengths from the `@@` headers decide where a hunk ends, so a removed line reading `-- x` (shown as
 * `--- x`) is never taken for a file header.
 */
export function parseUnifiedDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  const lines = text.split('\n');
  let file: DiffFile | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('diff --git ')) {
      const names = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
      file = { oldPath: names?.[1] ?? null, newPath: names?.[2] ?? null, removed: [], added: [] };
      files.push(file);
      continue;
    }
    if (!file) continue;
    if (line.startsWith('--- ')) file.oldPath = headerPath(line.slice(4));
    else if (line.startsWith('+++ ')) file.newPath = headerPath(line.slice(4));
    else if (line.startsWith('rename from ')) file.oldPath = unquote(line.slice(12));
    else if (line.startsWith('rename to ')) file.newPath = unquote(line.slice(10));
    else if (line.startsWith('deleted file mode')) file.newPath = null;
    else if (line.startsWith('new file mode')) file.oldPath = null;
    const hunk = HUNK.exec(line);
    if (!hunk) continue;
    let oldLine = Number(hunk[1]);
    let newLine = Number(hunk[3]);
    let oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
    let newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
    while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
      const body = lines[++i]!;
      if (body.startsWith('-')) {
        file.removed.push({ line: oldLine++, text: body.slice(1) });
        oldLeft--;
      } else if (body.startsWith('+')) {
        file.added.push({ line: newLine++, text: body.slice(1) });
        newLeft--;
      } else if (body.startsWith(' ')) {
        oldLine++;
        newLine++;
        oldLeft--;
        newLeft--;
      }
      // `\ No newline at end of file` counts for neither side.
    }
  }
  return files;
}

export function languageOf(file: string): Language | null {
  const ext = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase() ?? '';
  switch (ext) {
    case 'ts':
    case 'tsx':
    case 'mts':
    case 'cts':
    case 'js':
    case 'jsx':
    case 'mjs':
    case 'cjs':
      return 'js';
    case 'py':
    case 'pyi':
      return 'python';
    case 'go':
      return 'go';
    case 'rs':
      return 'rust';
    default:
      return null;
  }
}

export interface Declared {
  /** What it is, for people: `function`, `class`, `method`, `export`, `struct`, `impl`… */
  kind: string;
  /** The name a move keeps and a spec would use: `foo`, `Server.Start`, `impl Display for Foo`. */
  key: string;
  /** Exported (`export`, `pub`): losing that is a removal too. */
  exported: boolean;
  /** Words any of which, in the spec's text, name this definition. */
  words: string[];
}

const ID = '[A-Za-z_$][\\w$]*';
const JS_MODIFIERS =
  '(?:(?:public|private|protected|static|async|override|readonly|abstract|declare|accessor)\\s+)';
const JS_FUNCTION = new RegExp(
  `^\\s*(export\\s+)?(?:default\\s+)?(?:declare\\s+)?(?:async\\s+)?function\\b\\s*\\*?\\s*(${ID})`,
);
const JS_CLASS = new RegExp(
  `^\\s*(export\\s+)?(?:default\\s+)?(?:declare\\s+)?(?:abstract\\s+)?class\\s+(${ID})`,
);
const JS_EXPORT_DECL = new RegExp(
  `^\\s*export\\s+(?:declare\\s+)?(const\\s+enum|enum|interface|type|namespace|module|abstract\\s+class)\\s+(${ID})`,
);
const JS_EXPORT_VAR = new RegExp(`^\\s*export\\s+(?:declare\\s+)?(?:const|let|var)\\s+(${ID})`);
const JS_EXPORT_DESTRUCTURE = /^\s*export\s+(?:const|let|var)\s+[{[]([^}\]]*)[}\]]/;
const JS_EXPORT_LIST = /^\s*export\s+(?:type\s+)?\{([^}]*)\}/;
const JS_EXPORT_LIST_OPEN = /^\s*export\s+(?:type\s+)?\{([^}]*)$/;
const JS_EXPORT_STAR = new RegExp(`^\\s*export\\s+\\*\\s+(?:as\\s+(${ID})\\s+)?from\\s*['"]([^'"]+)['"]`);
const JS_EXPORT_DEFAULT = /^\s*export\s+default\s+(?!(?:async\s+)?function\b|(?:abstract\s+)?class\b)/;
const JS_EXPORT_ASSIGN = /^\s*(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=/;
/** Top-level `const f = (…) =>`, `const f = async x =>`, `const f = function …`. */
const JS_ARROW_CONST = new RegExp(
  `^(export\\s+)?(?:const|let|var)\\s+(${ID})\\s*(?::[^=]*)?=\\s*(?:async\\s+)?(?:function\\b|\\([^)]*\\)\\s*(?::[^=]*)?=>|${ID}\\s*=>)`,
);
/** An indented `name(…) {` / `async name(` / `get name() {`: a class or object method. */
const JS_METHOD = new RegExp(
  `^\\s+((?:${JS_MODIFIERS}|(?:get|set)\\s+)*)\\*?\\s*(#?${ID})\\s*(?:<.*>)?\\s*\\((.*)$`,
);
/** An indented `handle = (…) =>` / `private handle = async () =>`: a class field holding a function. */
const JS_FIELD_ARROW = new RegExp(
  `^\\s+${JS_MODIFIERS}*(#?${ID})\\s*(?::[^=]+)?=\\s*(?:async\\s+)?(?:\\([^)]*\\)|${ID})\\s*(?::[^=]+)?=>`,
);
const NOT_METHODS = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'with',
  'function',
  'return',
  'do',
  'else',
  'try',
  'new',
  'typeof',
  'await',
  'yield',
  'super',
  'this',
  'import',
  'throw',
  'case',
  'delete',
  'void',
]);

/** `a, b as c, type D, default as e` → the exported names `a`, `c`, `D`, `e`. */
function exportListNames(list: string): string[] {
  return list
    .split(',')
    .map((part) => part.trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .map((part) =>
      part
        .split(/\s+as\s+/)
        .at(-1)!
        .trim(),
    )
    .filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
}

function jsMethod(line: string): Declared | null {
  const m = JS_METHOD.exec(line);
  if (!m) return null;
  const name = m[2]!;
  if (NOT_METHODS.has(name)) return null;
  const modifiers = m[1]!.trim();
  const rest = m[3]!;
  // `it('name', function () {` and `foo("x") {` are calls, not methods.
  if (/^\s*['"`\d]/.test(rest) || /\bfunction\b/.test(rest)) return null;
  // With a modifier (`async run(`) it is a method even when the parameters go on; without one, the whole
  // signature must be on the line and open a body: `run(argv: string[]): Promise<void> {`.
  const whole = /\)\s*(?::\s*[^{;=]+?)?\s*\{\s*\}?\s*$/.test(rest);
  if (!whole && !/\b(?:public|private|protected|static|async|override|abstract|get|set)\b/.test(modifiers))
    return null;
  const bare = name.replace(/^#/, '');
  return { kind: 'method', key: bare, exported: false, words: [bare] };
}

function jsDeclared(line: string): Declared[] {
  const out: Declared[] = [];
  const add = (kind: string, name: string, exported: boolean): void => {
    out.push({ kind, key: name, exported, words: [name] });
  };
  let m: RegExpExecArray | null;
  if ((m = JS_FUNCTION.exec(line))) add('function', m[2]!, Boolean(m[1]));
  else if ((m = JS_CLASS.exec(line))) add('class', m[2]!, Boolean(m[1]));
  else if ((m = JS_EXPORT_DECL.exec(line))) add(`export ${m[1]!.replace(/\s+/g, ' ')}`, m[2]!, true);
  else if ((m = JS_ARROW_CONST.exec(line))) add(m[1] ? 'export const' : 'function', m[2]!, Boolean(m[1]));
  else if ((m = JS_EXPORT_VAR.exec(line))) add('export const', m[1]!, true);
  else if ((m = JS_EXPORT_DESTRUCTURE.exec(line))) {
    for (const name of exportListNames(m[1]!.replace(/:\s*/g, ' as '))) add('export const', name, true);
  } else if ((m = JS_EXPORT_STAR.exec(line))) {
    if (m[1]) add('export * as', m[1], true);
    else out.push({ kind: 'export *', key: `* from ${m[2]!}`, exported: true, words: [m[2]!] });
  } else if ((m = JS_EXPORT_LIST.exec(line))) {
    for (const name of exportListNames(m[1]!)) add('export', name, true);
  } else if (JS_EXPORT_DEFAULT.test(line)) {
    out.push({
      kind: 'export default',
      key: 'default',
      exported: true,
      words: ['export default', 'default export'],
    });
  } else if ((m = JS_EXPORT_ASSIGN.exec(line))) add('export', m[1]!, true);
  else if ((m = JS_FIELD_ARROW.exec(line))) add('method', m[1]!.replace(/^#/, ''), false);
  else {
    const method = jsMethod(line);
    if (method) out.push(method);
  }
  return out;
}

const PY_DEF = /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)/;
const PY_CLASS = /^\s*class\s+([A-Za-z_]\w*)/;

function pythonDeclared(line: string): Declared[] {
  let m: RegExpExecArray | null;
  if ((m = PY_DEF.exec(line))) return [{ kind: 'def', key: m[1]!, exported: false, words: [m[1]!] }];
  if ((m = PY_CLASS.exec(line))) return [{ kind: 'class', key: m[1]!, exported: false, words: [m[1]!] }];
  return [];
}

const GO_FUNC =
  /^func\s*(?:\(\s*(?:[A-Za-z_]\w*\s+)?\*?\s*([A-Za-z_]\w*)(?:\[[^\]]*\])?\s*\)\s*)?([A-Za-z_]\w*)/;
const GO_TYPE = /^type\s+([A-Za-z_]\w*)\b(?:\[[^\]]*\])?\s*(struct|interface)?/;

function goDeclared(line: string): Declared[] {
  let m: RegExpExecArray | null;
  if ((m = GO_FUNC.exec(line))) {
    const receiver = m[1];
    const name = m[2]!;
    return receiver
      ? [
          {
            kind: 'method',
            key: `${receiver}.${name}`,
            exported: false,
            words: [name, `${receiver}.${name}`],
          },
        ]
      : [{ kind: 'func', key: name, exported: false, words: [name] }];
  }
  if ((m = GO_TYPE.exec(line))) {
    const kind = m[2] === 'struct' || m[2] === 'interface' ? m[2] : 'type';
    return [{ kind, key: m[1]!, exported: false, words: [m[1]!] }];
  }
  return [];
}

const RS_VIS = '(pub(?:\\s*\\([^)]*\\))?\\s+)?';
const RS_FN = new RegExp(
  `^\\s*${RS_VIS}(?:default\\s+)?(?:const\\s+)?(?:async\\s+)?(?:unsafe\\s+)?(?:extern\\s+(?:"[^"]*"\\s+)?)?fn\\s+([A-Za-z_]\\w*)`,
);
const RS_ITEM = new RegExp(
  `^\\s*${RS_VIS}(?:unsafe\\s+|auto\\s+)?(struct|enum|trait|union|type)\\s+([A-Za-z_]\\w*)`,
);
const RS_MACRO = /^\s*macro_rules!\s*([A-Za-z_]\w*)/;
const RS_IMPL = /^\s*(?:unsafe\s+)?impl\b/;

/** Skips a balanced `<…>` at `i` (generics may nest: `impl<T: Into<String>>`). */
function skipAngles(text: string, i: number): number {
  if (text[i] !== '<') return i;
  let depth = 0;
  for (; i < text.length; i++) {
    if (text[i] === '<') depth++;
    else if (text[i] === '>' && text[i - 1] !== '-' && --depth === 0) return i + 1;
  }
  return i;
}

/** `impl<T> Display for Foo<T> where … {` → `impl Display for Foo<T>`, named by `Display` and `Foo`. */
function rustImpl(line: string): Declared | null {
  const start = RS_IMPL.exec(line);
  if (!start) return null;
  let rest = line.slice(start[0].length).trimStart();
  rest = rest.slice(skipAngles(rest, 0)).trim();
  rest = rest
    .replace(/\s*\{.*$/, '')
    .replace(/\s+where\b.*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (!rest) return null;
  const words = [...rest.matchAll(/[A-Za-z_]\w*/g)]
    .map((w) => w[0])
    .filter((w) => w !== 'for' && w !== 'dyn');
  const target = /\bfor\s+(?:dyn\s+)?&?(?:mut\s+)?([A-Za-z_][\w:]*)/.exec(rest)?.[1] ?? words[0];
  const named = [
    ...new Set([target?.split('::').at(-1), words[0]?.split('::').at(-1)].filter((w) => w !== undefined)),
  ];
  return { kind: 'impl', key: `impl ${rest}`, exported: false, words: [rest, ...named] };
}

function rustDeclared(line: string): Declared[] {
  let m: RegExpExecArray | null;
  if ((m = RS_FN.exec(line)))
    return [{ kind: m[1] ? 'pub fn' : 'fn', key: m[2]!, exported: Boolean(m[1]), words: [m[2]!] }];
  if ((m = RS_ITEM.exec(line))) {
    return [{ kind: m[1] ? `pub ${m[2]!}` : m[2]!, key: m[3]!, exported: Boolean(m[1]), words: [m[3]!] }];
  }
  if ((m = RS_MACRO.exec(line)))
    return [{ kind: 'macro', key: `${m[1]!}!`, exported: false, words: [m[1]!] }];
  const impl = rustImpl(line);
  return impl ? [impl] : [];
}

/** Comment lines never declare anything (`# def x` in Python, `// function x` elsewhere). */
function isComment(line: string, language: Language): boolean {
  const t = line.trimStart();
  if (language === 'python') return t.startsWith('#');
  return t.startsWith('//') || t.startsWith('/*') || /^\*(?:\s|\/|$)/.test(t);
}

/** The definitions one source line declares (usually none, sometimes several: `export { a, b }`). */
export function declaredIn(line: string, language: Language): Declared[] {
  if (isComment(line, language)) return [];
  switch (language) {
    case 'js':
      return jsDeclared(line);
    case 'python':
      return pythonDeclared(line);
    case 'go':
      return goDeclared(line);
    case 'rust':
      return rustDeclared(line);
  }
}

export interface Definition extends Declared {
  file: string;
  line: number;
  /** The removed line, trimmed and shortened. */
  text: string;
}

export interface DeletionReport {
  /** Removed and not put back, and the spec does not name them: these fail the gate. */
  removed: Definition[];
  /** Removed, and named by the spec's text: allowed. */
  named: Definition[];
  /** Removed and added again under the same name (moved or edited). */
  moved: Definition[];
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `word` occurs in `text` on its own (not inside a longer identifier). */
export function mentions(text: string, word: string): boolean {
  const head = /^[\w$]/.test(word) ? '(?<![\\w$])' : '';
  const tail = /[\w$]$/.test(word) ? '(?![\\w$])' : '';
  return new RegExp(head + escapeRegExp(word) + tail).test(text);
}

const exportNames = (list: string): Declared[] =>
  exportListNames(list).map((name) => ({ kind: 'export', key: name, exported: true, words: [name] }));

const shorten = (text: string): string => {
  const short = text.trim();
  return short.length > 120 ? `${short.slice(0, 117)}…` : short;
};

function definitions(files: readonly DiffFile[], side: 'removed' | 'added'): Definition[] {
  const out: Definition[] = [];
  for (const file of files) {
    const path = (side === 'removed' ? (file.oldPath ?? file.newPath) : (file.newPath ?? file.oldPath)) ?? '';
    const language = languageOf(path);
    if (!language) continue;
    /** Line of the last line of an open multi-line `export {` list, whose names follow up to the `}`. */
    let list: number | null = null;
    for (const { line, text } of file[side]) {
      let declared: Declared[];
      if (language === 'js' && list !== null && line === list + 1 && !isComment(text, language)) {
        const [names = '', ...after] = text.split('}');
        declared = exportNames(names);
        list = after.length ? null : line;
      } else if (language === 'js' && JS_EXPORT_LIST_OPEN.test(text)) {
        declared = exportNames(text.replace(JS_EXPORT_LIST_OPEN, '$1'));
        list = line;
      } else {
        declared = declaredIn(text, language);
        list = null;
      }
      for (const found of declared) out.push({ ...found, file: path, line, text: shorten(text) });
    }
  }
  return out;
}

/**
 * Sorts the definitions the diff removes: put back under the same name anywhere in the diff (`moved`),
 * named by the spec (`named`), or really removed (`removed`). A definition that was exported and comes
 * back only unexported counts as removed.
 */
export function findDeletions(files: readonly DiffFile[], specText: string): DeletionReport {
  const added = new Map<string, { exported: boolean }>();
  for (const def of definitions(files, 'added')) {
    const seen = added.get(def.key);
    added.set(def.key, { exported: (seen?.exported ?? false) || def.exported });
  }
  const report: DeletionReport = { removed: [], named: [], moved: [] };
  for (const def of definitions(files, 'removed')) {
    const back = added.get(def.key);
    if (back && (back.exported || !def.exported)) report.moved.push(def);
    else if (def.words.some((word) => mentions(specText, word))) report.named.push(def);
    else report.removed.push(back ? { ...def, kind: `${def.kind} (no longer exported)` } : def);
  }
  return report;
}
