/** `nightshift doctor [--json] [--no-probe]`: environment and provider checks, with the fix for each failure. */
import { loadConfig } from '../../config/load.js';
import { workspacePaths } from '../../config/paths.js';
import type { CommandContext } from '../context.js';
import { printJson } from '../output.js';
import { visible } from '../../lib/visible.js';

export function registerDoctor(ctx: CommandContext): void {
  ctx.program
    .command('doctor')
    .description(
      'check hosts (reachable, workdir writable, tmux, git, node, load), providers (binary, version, live probe), the claude-code architect (CLI, version, live probe), repos (exists, main, its checkout) and that the workspace is in no git repository',
    )
    .option('--json', 'print the checks as JSON')
    .option('--no-probe', 'skip the live provider probes')
    .action(async (opts: { json?: boolean; probe: boolean }) => {
      // Loaded on demand: hosts and providers pull in process machinery other commands never need.
      const { buildHosts } = await import('../../hosts/registry.js');
      const { runDoctor } = await import('../../providers/doctor.js');
      const paths = workspacePaths(ctx.workspaceRoot());
      const config = loadConfig(paths);
      const hosts = buildHosts(config, paths, {
        ...(ctx.io.env['NIGHTSHIFT_TMUX_SOCKET'] ? { tmuxSocket: ctx.io.env['NIGHTSHIFT_TMUX_SOCKET'] } : {}),
      });
      const checks = await runDoctor(config, hosts, ctx.io.env, {
        probe: opts.probe,
        now: ctx.io.clock.now(),
        root: paths.root,
      });
      const { claudeArchitectChecks } = await import('../../review/claude-architect-probe.js');
      checks.push(
        ...(await claudeArchitectChecks(config, ctx.io.env, {
          architectDir: paths.architectDir,
          probe: opts.probe,
        })),
      );
      await Promise.all([...hosts.values()].map((h) => h.runner.close().catch(() => undefined)));
      const failed = checks.filter((c) => !c.ok && c.level === 'error');
      if (opts.json) printJson(ctx.io, { ok: failed.length === 0, checks });
      else {
        for (const c of checks) {
          const mark = c.ok ? 'ok  ' : c.level === 'warning' ? 'warn' : 'FAIL';
          const who =
            c.scope === 'provider'
              ? `provider ${c.name}@${c.host}`
              : c.scope === 'gates'
                ? 'gates'
                : `${c.scope} ${c.name}`;
          ctx.io.stdout(`${mark} ${who}: ${c.check}: ${visible(c.detail)}\n`);
          if (!c.ok && c.fix) ctx.io.stdout(`       fix: ${c.fix}\n`);
        }
        ctx.io.stdout(failed.length ? `${failed.length} check(s) failed\n` : 'all checks passed\n');
      }
      if (failed.length) ctx.exitCode = 1;
    });
}
