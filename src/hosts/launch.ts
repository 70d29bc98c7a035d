/**
 * Launching an executor attempt on a host: stage its prompt, env and argv files and start its tmux
 * session in one round trip (stage.sh), and turn the script's exit status into an error that says what
 * went wrong and what to do.
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import { hooksFileText } from './hooks.js';
import { envFileText, quoteArgv } from './quote.js';
import { STAGE_BUSY, STAGE_FOREIGN_SERVER, STAGE_NO_RECORD, STAGE_NO_SESSION, STAGE_SH } from './scripts.js';
import { foreignServerVariables, newSessionArgs } from './tmux.js';
import { hostError, type HostContext, type LaunchSpec } from './worker-types.js';

/**
 * Starts attempt `n` of a task in a detached tmux session `ns-<workspace id>_<id>` (session-names.ts),
 * in one round trip (STAGE_SH): it stages the prompt, the env file, the argv file and the repo's setup
 * hooks (refusing while the session's executor still runs)
 * and starts the session. The argv travels in a file because tmux refuses command lines over ~16 KB.
 */
export async function launchAttempt(host: HostContext, spec: LaunchSpec): Promise<void> {
  const id = spec.taskId;
  const taskDir = host.taskDir(id);
  const session = host.session(id);
  const prompt = Buffer.from(spec.prompt);
  const env = Buffer.from(envFileText({ ...spec.env, NIGHTSHIFT_TASK: id }, spec.secretKeys));
  const argv = Buffer.from(quoteArgv(spec.argv));
  const hooks = Buffer.from(
    (spec.hooks &&
      hooksFileText(spec.hooks.config, {
        dir: host.dir('hook-cache', spec.repo),
        expect: spec.hooks.cacheExpect,
      })) ??
      '',
  );
  const facts = host.info;
  const runner = [
    'env',
    '-i',
    `PATH=${facts.path}`,
    `HOME=${facts.home}`,
    'LANG=C.UTF-8',
    `NIGHTSHIFT_EXIT_SOCKET=${host.tmux.socket}`,
    'sh',
    host.dir('run.sh'),
    taskDir,
    host.worktree(id),
    String(spec.attempt),
    spec.stdin,
    '--argv-file',
  ];
  const staged = await host.runner.run(
    [
      'sh',
      '-c',
      STAGE_SH,
      'sh',
      taskDir,
      String(prompt.length),
      String(env.length),
      String(argv.length),
      session,
      ...host.tmux.shellBase(),
      host.mirror(spec.repo),
      String(spec.attempt),
      host.protectedRefs(spec.repo).join(' '),
      ...newSessionArgs(session, host.worktree(id), runner),
    ],
    { input: Buffer.concat([prompt, env, argv, hooks]) },
  );
  if (staged.exitCode === STAGE_BUSY) {
    throw new NightshiftError(
      ErrorCode.sessionTaken,
      `session ${session} is already running on the tmux server at ${host.tmux.socket}, so attempt ${spec.attempt} was not started: session names are nightshift's to keep apart, so this is not the task's failure`,
      {
        host: host.name,
        taskId: id,
        hint: `look at it with \`tmux -S ${host.tmux.socket} attach -r -t =${session}\` on ${host.name}; if no attempt of this workspace runs there, end it with kill-session and report it as a nightshift bug`,
      },
    );
  }
  if (staged.exitCode === STAGE_FOREIGN_SERVER) {
    const names = foreignServerVariables(staged.stdout);
    throw new NightshiftError(
      ErrorCode.io,
      `the tmux server on ${host.tmux.socket} holds variables nightshift did not give it (${names.join(', ')}), so every executor on it could read them: it was started by something else, and nothing was launched on it`,
      {
        host: host.name,
        taskId: id,
        hint: `stop it on ${host.name} with \`tmux -S ${host.tmux.socket} kill-server\` (this ends its sessions); nightshift starts a clean one at the next launch`,
      },
    );
  }
  if (staged.exitCode === STAGE_NO_RECORD) {
    throw hostError(
      host,
      `could not record the protected refs of ${spec.repo} in ${host.mirror(spec.repo)} before attempt ${spec.attempt}, so nothing was started: ${staged.stderr.trim()}`,
      id,
    );
  }
  if (staged.exitCode === STAGE_NO_SESSION) {
    throw hostError(host, `could not start session ${session}: ${staged.stderr.trim()}`, id);
  }
  if (staged.exitCode !== 0) {
    throw hostError(host, `could not stage attempt ${spec.attempt}: ${staged.stderr.trim()}`, id);
  }
}
