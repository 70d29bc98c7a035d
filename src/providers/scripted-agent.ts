/**
 * The scripted agent: a SIMULATOR for demos and tests, NOT an AI. It reads its prompt file and follows
 * the first fenced block tagged `nightshift-script`, step by step, in the current directory (a git
 * worktree), printing what it does like an agent would, and ends with a Claude-style result line.
 *
 * Self-contained on purpose (node: builtins only, no project imports): it is copied to workers and run
 * there as `node scripted-agent.mjs --prompt-file <file>`.
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

const HELP = `scripted-agent — a simulator for nightshift demos and tests. It is NOT an AI: it does not read or
understand the task, it only replays the steps written in the prompt's \`nightshift-script\` block.

usage:
  node scripted-agent.mjs --prompt-file <file>       follow the script in <file>, in the current directory
  node scripted-agent.mjs --probe <nonce> [--probe-behaviour ok|silent|hang|fail]
  node scripted-agent.mjs --help

script steps (one a line, in a fenced block tagged nightshift-script; # starts a comment):
  write <path> <json-string>    create or replace a file
  append <path> <json-string>   append to a file
  delete <path>                 delete a file or directory
  sh <json-string>              run a command with /bin/sh -c (output shown; a failure does not stop)
  commit <json-string>          git add -A and commit with that message (fixed identity)
  print <json-string>           print a line
  sleep <seconds>               wait
  silent                        exit 0 here; a script with this step prints nothing at all
  hang                          stop printing and never exit
  exit <code>                   stop here with this exit code
  push-main                     git push origin HEAD:main, report its exit status, carry on
  usage <in> <out> [<usd>]      report token usage (and a cost) like an agent would: one JSON line
                                {"type":"usage","input_tokens":…,"output_tokens":…,"cost_usd":…}
Paths must stay inside the current directory (no absolute paths, no "..", not .git): exit 2 otherwise.
The last line is {"type":"result","result":"…","is_error":false}.
`;

type Step =
  | { op: 'write' | 'append'; path: string; text: string }
  | { op: 'delete'; path: string }
  | { op: 'sh' | 'commit' | 'print'; text: string }
  | { op: 'sleep'; seconds: number }
  | { op: 'silent' | 'hang' | 'push-main' }
  | { op: 'exit'; code: number }
  | { op: 'usage'; input: number; output: number; usd: number | null };

class ScriptError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Reads one JSON string literal (or a bare word) at the start of `text`; returns it and the rest. */
function takeValue(text: string, what: string, line: number): [string, string] {
  const t = text.trimStart();
  if (!t) throw new ScriptError(`line ${line}: missing ${what}`, 2);
  if (!t.startsWith('"')) {
    const m = /^(\S+)(.*)$/s.exec(t);
    return [m?.[1] ?? '', m?.[2] ?? ''];
  }
  for (let i = 1; i < t.length; i++) {
    if (t[i] === '\\') i++;
    else if (t[i] === '"') {
      try {
        return [JSON.parse(t.slice(0, i + 1)) as string, t.slice(i + 1)];
      } catch {
        break;
      }
    }
  }
  throw new ScriptError(`line ${line}: ${what} is not a valid JSON string: ${t}`, 2);
}

function takeJsonString(text: string, what: string, line: number): [string, string] {
  if (!text.trimStart().startsWith('"'))
    throw new ScriptError(`line ${line}: ${what} must be a JSON string ("…")`, 2);
  return takeValue(text, what, line);
}

function noRest(rest: string, line: number): void {
  if (rest.trim()) throw new ScriptError(`line ${line}: unexpected text after the step: ${rest.trim()}`, 2);
}

/** The first fenced block tagged nightshift-script (its text and first line number), or null. */
function extractScript(prompt: string): { text: string; firstLine: number } | null {
  const lines = prompt.split(/\r?\n/);
  const start = lines.findIndex((l) => /^ {0,3}(`{3,}|~{3,})\s*nightshift-script\s*$/.test(l));
  if (start < 0) return null;
  const fence = /^ {0,3}(`{3,}|~{3,})/.exec(lines[start] ?? '')?.[1] ?? '```';
  const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
  const end = lines.findIndex((l, i) => i > start && closing.test(l));
  return { text: lines.slice(start + 1, end < 0 ? undefined : end).join('\n'), firstLine: start + 2 };
}

function parseScript(text: string, firstLine = 1): Step[] {
  const steps: Step[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = firstLine + index;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const m = /^(\S+)(.*)$/s.exec(trimmed);
    const op = m?.[1] ?? '';
    const rest = m?.[2] ?? '';
    switch (op) {
      case 'write':
      case 'append': {
        const [p, after] = takeValue(rest, 'path', line);
        const [content, tail] = takeJsonString(after, 'content', line);
        noRest(tail, line);
        steps.push({ op, path: p, text: content });
        return;
      }
      case 'delete': {
        const [p, tail] = takeValue(rest, 'path', line);
        noRest(tail, line);
        steps.push({ op, path: p });
        return;
      }
      case 'sh':
      case 'commit':
      case 'print': {
        const [value, tail] = takeJsonString(
          rest,
          op === 'sh' ? 'command' : op === 'commit' ? 'message' : 'text',
          line,
        );
        noRest(tail, line);
        steps.push({ op, text: value });
        return;
      }
      case 'sleep': {
        const seconds = Number(rest.trim());
        if (!rest.trim() || !Number.isFinite(seconds) || seconds < 0) {
          throw new ScriptError(`line ${line}: sleep needs a number of seconds`, 2);
        }
        steps.push({ op, seconds });
        return;
      }
      case 'exit': {
        const code = Number(rest.trim());
        if (!/^\d{1,3}$/.test(rest.trim()) || code > 255)
          throw new ScriptError(`line ${line}: exit needs a code 0-255`, 2);
        steps.push({ op, code });
        return;
      }
      case 'usage': {
        const words = rest.trim().split(/\s+/);
        const [input, output, usd] = words.map(Number);
        if (words.length < 2 || words.length > 3 || [input, output, usd].some((n) => Number.isNaN(n)))
          throw new ScriptError(`line ${line}: usage needs <input tokens> <output tokens> [<usd>]`, 2);
        steps.push({ op, input: input ?? 0, output: output ?? 0, usd: usd ?? null });
        return;
      }
      case 'silent':
      case 'hang':
      case 'push-main':
        noRest(rest, line);
        steps.push({ op });
        return;
      default:
        throw new ScriptError(`line ${line}: unknown step ${JSON.stringify(op)}`, 2);
    }
  });
  return steps;
}

const outside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
};

/**
 * Resolves a script path inside `root`. Refuses absolute paths, `..` escapes, `.git`, and links out of
 * the worktree: a symlinked directory on the way, or (`follow`, for writes) a symlinked file whose
 * target is outside or missing.
 */
function safePath(root: string, p: string, follow: boolean): string {
  const refuse = (why: string) => new ScriptError(`refusing path ${JSON.stringify(p)}: ${why}`, 2);
  if (!p || path.isAbsolute(p) || /^[A-Za-z]:/.test(p)) throw refuse('absolute paths are not allowed');
  const realRoot = realpathSync(root);
  const full = path.resolve(realRoot, p);
  if (full === realRoot || outside(realRoot, full)) throw refuse('it leaves the worktree');
  if (path.relative(realRoot, full).split(path.sep)[0] === '.git') throw refuse(".git is not the agent's");
  let ancestor = path.dirname(full);
  while (!existsSync(ancestor)) ancestor = path.dirname(ancestor);
  if (outside(realRoot, realpathSync(ancestor))) throw refuse('it goes through a link out of the worktree');
  if (follow && lstatSync(full, { throwIfNoEntry: false })?.isSymbolicLink()) {
    if (!existsSync(full) || outside(realRoot, realpathSync(full)))
      throw refuse('it is a link out of the worktree');
  }
  return full;
}

const GIT_IDENTITY = [
  '-c',
  'user.name=nightshift scripted agent',
  '-c',
  'user.email=scripted-agent@nightshift.invalid',
  '-c',
  'commit.gpgsign=false',
];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const forever = () => new Promise<never>(() => setInterval(() => undefined, 2 ** 30));

async function run(promptFile: string): Promise<number> {
  const root = process.cwd();
  const prompt = readFileSync(promptFile, 'utf8');
  const script = extractScript(prompt);
  const result = (text: string, isError = false) =>
    `${JSON.stringify({ type: 'result', result: text, is_error: isError })}\n`;
  if (!script) {
    process.stdout.write('[scripted] no nightshift-script block in the prompt: nothing to do\n');
    process.stdout.write(result('nothing to do: the prompt has no nightshift-script block'));
    return 0;
  }
  const steps = parseScript(script.text, script.firstLine);
  const quiet = steps.some((s) => s.op === 'silent');
  const say = (line: string) => {
    if (!quiet) process.stdout.write(`${line}\n`);
  };
  const git = (args: string[]) =>
    spawnSync('git', args, {
      cwd: root,
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'ignore' : 'inherit'],
    });
  let done = 0;
  for (const step of steps) {
    switch (step.op) {
      case 'write':
      case 'append': {
        const file = safePath(root, step.path, true);
        say(`[scripted] ${step.op} ${step.path}`);
        mkdirSync(path.dirname(file), { recursive: true });
        if (step.op === 'write') writeFileSync(file, step.text);
        else appendFileSync(file, step.text);
        break;
      }
      case 'delete': {
        const file = safePath(root, step.path, false);
        say(`[scripted] delete ${step.path}`);
        if (!lstatSync(file, { throwIfNoEntry: false })) {
          throw new ScriptError(`cannot delete ${step.path}: no such file`, 1);
        }
        rmSync(file, { recursive: true });
        break;
      }
      case 'sh': {
        say(`[scripted] sh ${step.text}`);
        const r = spawnSync('/bin/sh', ['-c', step.text], {
          cwd: root,
          stdio: ['ignore', quiet ? 'ignore' : 'inherit', quiet ? 'ignore' : 'inherit'],
        });
        say(`[scripted] sh exited ${r.status ?? `on ${r.signal ?? 'error'}`}`);
        break;
      }
      case 'commit': {
        say(`[scripted] commit ${step.text}`);
        git(['add', '-A']);
        const r = git([...GIT_IDENTITY, 'commit', '-q', '--no-verify', '-m', step.text]);
        if (r.status !== 0) say(`[scripted] commit exited ${r.status ?? 'on a signal'} (nothing to commit?)`);
        break;
      }
      case 'print':
        say(step.text);
        break;
      case 'sleep':
        say(`[scripted] sleep ${step.seconds}`);
        await sleep(step.seconds * 1000);
        break;
      case 'silent':
        return 0;
      case 'hang':
        return forever();
      case 'exit':
        say(`[scripted] exit ${step.code}`);
        if (!quiet)
          process.stdout.write(result(`stopped by the script with exit ${step.code}`, step.code !== 0));
        return step.code;
      case 'usage':
        say(
          JSON.stringify({
            type: 'usage',
            input_tokens: step.input,
            output_tokens: step.output,
            ...(step.usd === null ? {} : { cost_usd: step.usd }),
          }),
        );
        break;
      case 'push-main': {
        say('[scripted] push-main');
        const r = git(['push', 'origin', 'HEAD:main']);
        say(`[scripted] push-main exited ${r.status ?? `on ${r.signal ?? 'error'}`}`);
        break;
      }
    }
    done++;
  }
  process.stdout.write(result(`scripted agent completed ${done} step${done === 1 ? '' : 's'}`));
  return 0;
}

async function probe(nonce: string, behaviour: string): Promise<number> {
  switch (behaviour) {
    case 'ok':
      process.stdout.write(`${nonce}\n`);
      return 0;
    case 'silent':
      return 0;
    case 'hang':
      return forever();
    case 'fail':
      process.stderr.write('scripted agent: simulated probe failure (--probe-behaviour fail)\n');
      return 1;
    default:
      throw new ScriptError(
        `unknown --probe-behaviour ${JSON.stringify(behaviour)} (ok, silent, hang, fail)`,
        2,
      );
  }
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) throw new ScriptError(`${name} needs a value`, 2);
  return v;
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const nonce = option(args, '--probe');
  if (nonce !== undefined) return probe(nonce, option(args, '--probe-behaviour') ?? 'ok');
  const promptFile = option(args, '--prompt-file');
  if (promptFile === undefined)
    throw new ScriptError('expected --prompt-file <file> or --probe <nonce> (see --help)', 2);
  return run(promptFile);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`scripted agent: ${message}\n`);
    process.exitCode = err instanceof ScriptError ? err.exitCode : 1;
  },
);
