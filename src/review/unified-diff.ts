/**
 * Reading `git diff -U0` output: the files a diff touches, with the lines it removes and adds. Pure; the
 * deletions, named-tests, tests-kept and secrets gates all read the diff through it.
 */
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
