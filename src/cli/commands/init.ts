/** `nightshift init [dir]`: scaffold a workspace. Never overwrites an existing config. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, NightshiftError } from '../../core/errors.js';
import { workspacePaths } from '../../config/paths.js';
import { QueueStore } from '../../queue/store.js';
import type { CommandContext } from '../context.js';
import { DEFAULT_ARCHITECT_MODEL } from '../../config/models.js';

export const CONFIG_TEMPLATE = `# nightshift workspace configuration. Every key, its default and meaning: docs/configuration.md in the
# nightshift repository. Unknown keys are errors.
# Secrets never go in this file: name the environment variable that holds them (secretEnv, apiKeyEnv).

repos:
  # The repository your specs change. nightshift is the only writer of its main branch: best a clone of
  # its own or a bare one, with remote: to push (docs/configuration.md). In a checkout of main you work
  # in, merges update your files, and wait while you have uncommitted changes.
  app: { path: ~/src/app, main: main }

hosts:
  local: { kind: local }
  # oci: { kind: ssh, ssh: ubuntu@oci-worker, workdir: ~/.nightshift, maxLoadPerCore: 1.5, minFreeMemMB: 1500 }

providers:
  # A simulator, not an AI: it follows a \`nightshift-script\` block in the spec. For trying nightshift out.
  scripted: { kind: scripted, hosts: [local], concurrency: 2 }
  # glm:
  #   kind: claude-code
  #   hosts: [local]
  #   concurrency: 2
  #   model: glm-5.1
  #   env: { ANTHROPIC_BASE_URL: https://open.bigmodel.cn/api/anthropic }
  #   secretEnv: { ANTHROPIC_AUTH_TOKEN: ZHIPU_API_KEY }

architect:
  mode: gates            # llm | gates | manual
  model: ${DEFAULT_ARCHITECT_MODEL}
  apiKeyEnv: ANTHROPIC_API_KEY

gates:
  tests: { enabled: true, command: npm test }   # add report: junit.xml to prove named tests from it
  lint: { enabled: false, command: npm run lint }
  diff: { enabled: true, maxLines: 1500, maxFiles: 40 }
  deletions: { enabled: true }
  commits: { enabled: true, max: 15 }
  named-tests: { enabled: true }
  tests-kept: { enabled: true }   # no deleted test files, no emptied assertions, no fewer tests than base
  secrets: { enabled: true }      # a branch that adds a configured secret or a key never merges

defaults: { timeout: 2h, idle: 20m, attempts: 3, reviewRounds: 2, monitorEvery: 15m }

lint:
  strict: false          # true: specs without tests or a stop condition are refused
`;

export const EXAMPLE_SPEC = `---
title: Add a slugify helper
id: slugify-helper
priority: 0
tests:
  - test_slugify_lowercases
  - test_slugify_collapses_dashes
stop: Stop when these two tests pass. Do not add more tests.
---
Add a \`slugify(text)\` function to \`src/strings.ts\` that lowercases its input, replaces every run of
characters other than a-z and 0-9 with a single dash, and trims dashes from both ends. Export it.
Add the two named tests next to the existing string tests and keep every existing test passing.
`;

/**
 * The first night offline: the scripted provider (no AI, no network) follows the script in this spec,
 * adds one file and commits it, and the night merges it into the repo's main. Gates that need the repo's
 * own tooling (tests, named tests) are left out so that it works in any repository.
 */
export const OFFLINE_SPEC = `---
title: Say hello from nightshift's first night
id: hello-nightshift
provider: scripted
gates: [diff, deletions, commits]
attempts: 1
stop: Stop when NIGHTSHIFT-HELLO.md is committed.
---
An offline first night. The \`scripted\` provider is a simulator, not an AI: it does not read this text,
it follows the \`nightshift-script\` block below (docs/providers.md lists its steps). It adds
\`NIGHTSHIFT-HELLO.md\` at the top of the repository and commits it; the gates check the diff and the
merge queue merges it into main. Delete the file afterwards. For a real agent, configure a provider
(claude-code, codex, …) and use examples/slugify-helper.md.

\`\`\`nightshift-script
print "reading the task"
write "NIGHTSHIFT-HELLO.md" "# Hello from nightshift\\n\\nThe scripted agent wrote this file during an offline night, and the merge queue merged it.\\nDelete it whenever you like.\\n"
commit "Add NIGHTSHIFT-HELLO.md from nightshift's offline first night"
print "done: one file added and committed"
\`\`\`
`;

export function registerInit(ctx: CommandContext): void {
  ctx.program
    .command('init')
    .description('scaffold a workspace: config, specs/ inbox, queue/, logs/, reports/ and example specs')
    .argument('[dir]', 'workspace directory (default: the current directory)')
    .action(async (dir: string | undefined) => {
      const root = path.resolve(ctx.io.cwd, dir ?? ctx.workspaceRoot());
      const paths = workspacePaths(root);
      if (existsSync(paths.configFile)) {
        throw new NightshiftError(ErrorCode.usage, 'a workspace already exists here', {
          file: paths.configFile,
          hint: 'edit it, or choose another directory',
        });
      }
      for (const d of [root, paths.specs, paths.reports, path.join(root, 'examples')])
        mkdirSync(d, { recursive: true });
      new QueueStore(paths, ctx.io.clock).ensureLayout();
      writeFileSync(paths.configFile, CONFIG_TEMPLATE, { mode: 0o600, flag: 'wx' });
      for (const [name, text] of [
        ['hello-nightshift.md', OFFLINE_SPEC],
        ['slugify-helper.md', EXAMPLE_SPEC],
      ] as const) {
        const example = path.join(root, 'examples', name);
        if (!existsSync(example)) writeFileSync(example, text, { flag: 'wx' });
      }
      const rel = path.relative(ctx.io.cwd, root) || '.';
      ctx.io.stdout(
        [
          `Created a nightshift workspace in ${root}`,
          `  ${path.join(rel, 'nightshift.config.yaml')}   edit repos: and providers: first`,
          `  ${path.join(rel, 'specs')}/                    the inbox: drop spec files here`,
          `  ${path.join(rel, 'examples', 'hello-nightshift.md')}  an offline first night: the scripted agent adds one file`,
          `  ${path.join(rel, 'examples', 'slugify-helper.md')}   a spec for a real agent (configure a provider first)`,
          '',
          'Next (offline, no AI needed): set repos.app.path, then',
          `  cp ${path.join(rel, 'examples', 'hello-nightshift.md')} ${path.join(rel, 'specs')}/`,
          `  nightshift --workspace ${rel}`,
          '',
        ].join('\n'),
      );
      // Loaded on demand, as doctor loads its checks.
      const { enclosingWorktree } = await import('../../git/checkout.js');
      const { workspaceInRepo, workspaceInRepoFix } = await import('../../providers/doctor-repos.js');
      const top = await enclosingWorktree(root);
      if (top) ctx.io.stderr(`warning: ${workspaceInRepo(root, top)}\n  fix: ${workspaceInRepoFix(top)}\n`);
    });
}
