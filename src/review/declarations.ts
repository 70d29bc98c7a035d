/**
 * What source lines declare, as pure functions: a line-based reading, not a parser. It recognises the
 * usual shapes of:
 * - TypeScript/JavaScript: function declarations, classes, `export const/let/var/enum/interface/type`,
 *   `export default`, `export { a, b as c }`, `export * from`, class and object methods, class fields
 *   holding arrow functions, and top-level `const f = (…) => …` / `const f = function …`;
 * - Python: `def`, `async def`, `class`;
 * - Go: `func` (methods keyed as `Type.Name`), top-level `type X …`;
 * - Rust: `fn` (any visibility/qualifiers), `struct`, `enum`, `trait`, `union`, `type`, `impl`,
 *   `macro_rules!`.
 * The deletions gate (deletions.ts) compares the definitions a diff removes with those it adds.
 */
import type { DiffFile } from './unified-diff.js';

export type Language = 'js' | 'python' | 'go' | 'rust';

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

/** A definition a line of a diff declares, and where that line is. */
export interface Definition extends Declared {
  file: string;
  line: number;
  /** The removed line, trimmed and shortened. */
  text: string;
}

const exportNames = (list: string): Declared[] =>
  exportListNames(list).map((name) => ({ kind: 'export', key: name, exported: true, words: [name] }));

const shorten = (text: string): string => {
  const short = text.trim();
  return short.length > 120 ? `${short.slice(0, 117)}…` : short;
};

/**
 * The definitions the removed (or the added) lines of a diff declare, with the file and line of each. An
 * `export {` list open across lines is followed to its `}`.
 */
export function definitions(files: readonly DiffFile[], side: 'removed' | 'added'): Definition[] {
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
