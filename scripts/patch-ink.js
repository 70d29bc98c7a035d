// Makes the installed Ink (node_modules/ink, as `ink` resolves from here) the Ink that nightshift ships,
// so that development, the tests and the product all run one renderer (docs/tui.md, "The patched Ink").
// It runs as npm's `postinstall` (`npm ci`, `npm install`, and when nightshift is installed as a
// package: `npm i -g`, npx), before every vitest run (test/setup/ink.ts, so an edit of src/tui/ink/ is
// what the tests run) and in `npm run build` before the TUI is bundled (scripts/bundle-tui.js refuses an
// Ink that is not patched).
//
// What it changes in ink/build/ (Ink 6.8.0 only: every file it replaces or edits must have the sha256
// below, else it stops and says which file changed):
// - output.js, measure-text.js, wrap-text.js become src/tui/ink/'s (the output stage with caches that
//   last across frames; the two text caches, bounded), with text-width.js and widest-line.js beside them;
//   render-node-to-output.js imports ./widest-line.js instead of the widest-line package.
// - reconciler.js loses its two top-level awaits (React DevTools and its package.json, both only with
//   DEV=true), which the TUI's bundle cannot hold (it is CommonJS, for V8's code cache).
// Ink's originals are kept in build/nightshift-upstream/ (the tests compare our output stage with them),
// and build/nightshift-patch.json names the patch. Running it again changes nothing; it writes a file
// only when its content differs, each through a temporary file and a rename.
//
// Our modules are TypeScript: in a checkout (src/ and the typescript package present) each is
// transpiled here, file by file; in an installed package they come from dist/tui/ink/, which tsc made
// from the same source (the same text: tsconfig has isolatedModules and verbatimModuleSyntax).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const INK_VERSION = '6.8.0';
export const UPSTREAM_DIR = 'nightshift-upstream';
export const STAMP = 'nightshift-patch.json';

/** Ink 6.8.0's files that are replaced or edited, by their sha256. */
export const UPSTREAM = {
  'output.js': 'de9078c7fc647c40cf9e32d6658fcbbee91dae9e3f6334e5f4ebfc5905fc401d',
  'measure-text.js': '4562d24171af3063b91a0d965c652ebdf1e2bdf4fe7f75c6bc8664fefc77df6a',
  'wrap-text.js': 'd2b8b4d05ed0eadd6c52149092f062ba048cda9928ce88e5176107c6fe38c19e',
  'render-node-to-output.js': 'd0c06d2474bd6338fa807ba0a0a39fb713a197df38c7a266b9316c6dd80b3297',
  'reconciler.js': '33206e5904be42672999acd9dd9d37c6bb109176c836bf5469ac89a50ff773f2',
};

/** src/tui/ink/<name>.ts, written as ink/build/<name>.js. */
export const OURS = ['output', 'measure-text', 'wrap-text', 'widest-line', 'text-width'];

const INK_DEVTOOLS =
  /^if \(isDev\(\)\) \{\n {4}try \{\n {8}await import\('\.\/devtools\.js'\);[\s\S]*?\n\}\n(?=const diff = )/m;
const INK_PACKAGE_JSON =
  'const packageJson = isDev()\n    ? await loadPackageJson()\n    : { name: undefined, version: undefined };';

/** Edits of Ink's own files: each `from` must occur exactly once in the upstream file. */
const EDITS = {
  'render-node-to-output.js': [
    ["import widestLine from 'widest-line';", "import widestLine from './widest-line.js';"],
  ],
  'reconciler.js': [
    [INK_DEVTOOLS, '// nightshift: no React DevTools (a top-level await), see scripts/patch-ink.js\n'],
    [INK_PACKAGE_JSON, 'const packageJson = { name: undefined, version: undefined };'],
  ],
};

export class PatchInkError extends Error {
  code = 'INK_PATCH';
}

export const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** ink/build/, as `ink` resolves from nightshift's own directory (or `from`). */
export function inkBuildDir(from = ROOT) {
  const entry = createRequire(path.join(from, 'package.json')).resolve('ink');
  return path.dirname(entry);
}

function edit(file, text) {
  let out = text;
  for (const [from, to] of EDITS[file] ?? []) {
    const count = typeof from === 'string' ? out.split(from).length - 1 : out.match(from) ? 1 : 0;
    if (count !== 1)
      throw new PatchInkError(`patch-ink: ink/build/${file} has changed: cannot apply its edit`);
    out = out.replace(from, to);
  }
  return out;
}

/** Our module `name` as JavaScript: transpiled from src/tui/ink/ in a checkout, else dist/tui/ink/. */
async function compiled(name, root) {
  const source = path.join(root, 'src', 'tui', 'ink', `${name}.ts`);
  if (existsSync(source)) {
    let ts;
    try {
      ts = (await import('typescript')).default;
    } catch {
      ts = null;
    }
    if (ts) {
      const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
        fileName: `${name}.ts`,
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          verbatimModuleSyntax: true,
        },
      });
      return outputText;
    }
  }
  const built = path.join(root, 'dist', 'tui', 'ink', `${name}.js`);
  if (!existsSync(built))
    throw new PatchInkError(
      `patch-ink: neither src/tui/ink/${name}.ts with typescript nor dist/tui/ink/${name}.js is here ` +
        `(${root}): run \`npm run build\`, then \`node scripts/patch-ink.js\``,
    );
  return readFileSync(built, 'utf8').replace(/\/\/# sourceMappingURL=.*\n?$/, '');
}

/**
 * Ink's original of `file`, from build/ while it is unpatched, else from the copy kept beside it; its
 * sha256 checked either way.
 */
function upstream(build, file) {
  const kept = path.join(build, UPSTREAM_DIR, file);
  const text = readFileSync(existsSync(kept) ? kept : path.join(build, file), 'utf8');
  if (sha256(text) !== UPSTREAM[file])
    throw new PatchInkError(
      `patch-ink: ${path.join(build, file)} is not Ink ${INK_VERSION}'s (sha256 differs); nightshift's ` +
        `patch is for Ink ${INK_VERSION} exactly: reinstall it (\`npm ci\`), or update UPSTREAM and ` +
        `the edits in scripts/patch-ink.js for a new Ink`,
    );
  return text;
}

/** Every file the patched ink/build/ holds that differs from Ink's, by its path relative to build/. */
export async function patchedFiles(build, root = ROOT) {
  const version = JSON.parse(readFileSync(path.join(build, '..', 'package.json'), 'utf8')).version;
  if (version !== INK_VERSION)
    throw new PatchInkError(
      `patch-ink: ${path.join(build, '..')} is Ink ${version}; nightshift's patch is for Ink ` +
        `${INK_VERSION} (package.json pins it): run \`npm ci\``,
    );
  const files = {};
  for (const file of Object.keys(UPSTREAM)) {
    const original = upstream(build, file);
    files[path.join(UPSTREAM_DIR, file)] = original;
    const types = file.replace(/\.js$/, '.d.ts');
    if (existsSync(path.join(build, types)))
      files[path.join(UPSTREAM_DIR, types)] = readFileSync(path.join(build, types), 'utf8');
    if (EDITS[file]) files[file] = edit(file, original);
  }
  for (const name of OURS) {
    const header = `// nightshift: src/tui/ink/${name}.ts, put here by scripts/patch-ink.js\n`;
    files[`${name}.js`] = header + (await compiled(name, root));
  }
  const stamp = { ink: INK_VERSION, by: 'scripts/patch-ink.js', files: {} };
  for (const [file, text] of Object.entries(files)) stamp.files[file] = sha256(text);
  files[STAMP] = `${JSON.stringify(stamp, null, 2)}\n`;
  return files;
}

/** The files of ink/build/ that are not as patchedFiles() says: empty when Ink is patched. */
export async function unpatched(build = inkBuildDir(), root = ROOT) {
  const files = await patchedFiles(build, root);
  return Object.keys(files).filter((file) => {
    const at = path.join(build, file);
    return !existsSync(at) || readFileSync(at, 'utf8') !== files[file];
  });
}

/** Patches ink/build/; returns the files it wrote (none when it was patched already). */
export async function patchInk(build = inkBuildDir(), root = ROOT) {
  const files = await patchedFiles(build, root);
  const written = [];
  // The originals first, so that an interrupted run can start again from them.
  const order = Object.keys(files).sort(
    (a, b) => Number(!a.startsWith(UPSTREAM_DIR)) - Number(!b.startsWith(UPSTREAM_DIR)),
  );
  for (const file of order) {
    const at = path.join(build, file);
    if (existsSync(at) && readFileSync(at, 'utf8') === files[file]) continue;
    mkdirSync(path.dirname(at), { recursive: true });
    const temporary = `${at}.${process.pid}.tmp`;
    writeFileSync(temporary, files[file]);
    renameSync(temporary, at);
    written.push(file);
  }
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const build = inkBuildDir();
    const written = await patchInk(build);
    if (written.length > 0) console.log(`patch-ink: patched ${build} (${written.length} files)`);
  } catch (err) {
    console.error(err instanceof PatchInkError ? err.message : err);
    process.exit(1);
  }
}
