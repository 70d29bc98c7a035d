/**
 * The secrets gate's decisions, as pure functions: which secrets the lines a branch adds contain, by
 * value (the workspace's configured secrets, named by their variable) or by shape (the key-pattern table
 * in lib/secret-patterns.ts). Findings carry the secret's name, never its value.
 *
 * A branch is scanned commit by commit as well as whole: a rebase merge puts every commit on main, so a
 * key added in one commit and removed in the next still leaves main holding it.
 */
import type { NamedSecret } from '../lib/redact.js';
import { findSecretPatterns } from '../lib/secret-patterns.js';
import type { DiffFile } from './unified-diff.js';

/** The `file` of a finding in a commit message. */
export const MESSAGE = '(commit message)';

export interface SecretFinding {
  /** The file (after the change) the secret is added to; `(commit message)` for a message. */
  file: string;
  /** 1-based line in that file; null for a file name or a commit message. */
  line: number | null;
  /** The variable (`ZHIPU_API_KEY`) or the pattern (`aws-access-key`): never the value. */
  name: string;
  /** The commit that adds it, when found in one commit's patch; null in the branch's whole diff. */
  commit: string | null;
}

/** The forms of a configured secret to look for: as written, JSON-escaped, and base64-encoded. */
export function secretForms(secrets: readonly NamedSecret[]): { form: string; name: string }[] {
  const forms = new Map<string, string>();
  for (const { name, value } of secrets) {
    if (value.length < 4) continue;
    const b64 = Buffer.from(value).toString('base64').replace(/=+$/, '');
    for (const form of [value, JSON.stringify(value).slice(1, -1), b64]) {
      if (!forms.has(form)) forms.set(form, name);
    }
  }
  return [...forms].map(([form, name]) => ({ form, name })).sort((a, b) => b.form.length - a.form.length);
}

/** The names of the secrets `text` holds, each once, in the order found. */
export function secretsIn(text: string, forms: readonly { form: string; name: string }[]): string[] {
  const names = new Set<string>();
  for (const { form, name } of forms) if (text.includes(form)) names.add(name);
  for (const match of findSecretPatterns(text)) names.add(match.name);
  return [...names];
}

/** The secrets the added lines and the new file names of `files` hold. */
export function findAddedSecrets(
  files: readonly DiffFile[],
  forms: readonly { form: string; name: string }[],
  commit: string | null = null,
): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const file of files) {
    if (!file.newPath) continue;
    for (const name of secretsIn(file.newPath, forms))
      findings.push({ file: file.newPath, line: null, name, commit });
    for (const added of file.added) {
      for (const name of secretsIn(added.text, forms)) {
        findings.push({ file: file.newPath, line: added.line, name, commit });
      }
    }
    // A PEM block's header is one line; a key split over lines is found in the file's added text whole.
    const whole = file.added.map((l) => l.text).join('\n');
    for (const name of secretsIn(whole, forms)) {
      if (!findings.some((f) => f.file === file.newPath && f.name === name)) {
        findings.push({ file: file.newPath, line: null, name, commit });
      }
    }
  }
  return findings;
}

/** `git log --format=%x00%H -p` output split per commit. */
export function splitCommitPatches(text: string): { commit: string; patch: string }[] {
  const parts: { commit: string; patch: string }[] = [];
  for (const chunk of text.split('\u0000').slice(1)) {
    const newline = chunk.indexOf('\n');
    const commit = (newline < 0 ? chunk : chunk.slice(0, newline)).trim();
    if (/^[0-9a-f]{7,64}$/.test(commit))
      parts.push({ commit, patch: newline < 0 ? '' : chunk.slice(newline + 1) });
  }
  return parts;
}

/** One finding per file, line and name: the whole diff's first, then those only some commit shows. */
export function mergeFindings(findings: readonly SecretFinding[]): SecretFinding[] {
  const seen = new Set<string>();
  const kept: SecretFinding[] = [];
  const byFile = new Set<string>();
  for (const f of [...findings].sort((a, b) => Number(a.commit !== null) - Number(b.commit !== null))) {
    const key = `${f.file}\u0000${f.line}\u0000${f.name}`;
    const fileKey = `${f.file}\u0000${f.name}`;
    if (seen.has(key) || (f.commit !== null && byFile.has(fileKey))) continue;
    seen.add(key);
    byFile.add(fileKey);
    kept.push(f);
  }
  return kept;
}

/** The verdict: the list of where each secret is, by name. `show` makes a file name safe to print. */
export function secretsVerdict(
  findings: readonly SecretFinding[],
  show: (text: string) => string,
): { passed: boolean; evidence: string } {
  if (findings.length === 0) {
    return { passed: true, evidence: 'No configured secret and no key pattern in what the branch adds.' };
  }
  const list = findings.slice(0, 40).map((f) => {
    const where = f.line === null ? show(f.file) : `${show(f.file)}:${f.line}`;
    const when = !f.commit
      ? ''
      : f.file === MESSAGE
        ? ` (commit ${f.commit.slice(0, 12)})`
        : ` (in commit ${f.commit.slice(0, 12)}, gone from the final diff)`;
    return `  ${where}  [secret: ${f.name}]${when}`;
  });
  if (findings.length > 40) list.push(`  … and ${findings.length - 40} more`);
  return {
    passed: false,
    evidence: [
      'The branch adds secrets. Remove them from every commit of the branch (rewrite its history: a later ' +
        'commit that deletes a secret still leaves it in the commits that land), and read secrets from ' +
        'the environment instead. Where:',
      ...list,
    ].join('\n'),
  };
}
