/** `nightshift providers [--json] [--probe]`: health, live limit and why, in flight, last probe. */
import { loadConfig } from '../../config/load.js';
import { workspacePaths } from '../../config/paths.js';
import { averagePoints, describeGradeCap, gradesFromRecords, gradeThrottle } from '../../daemon/grades.js';
import { readDaemonState } from '../../daemon/state-file.js';
import { liveHolder } from '../../queue/lock.js';
import type { CommandContext } from '../context.js';
import { printJson, table } from '../output.js';
import { visible } from '../../lib/visible.js';

export interface ProviderRow {
  name: string;
  kind: string;
  hosts: string[];
  ceiling: number;
  limit: number | null;
  breaker: string;
  reason: string;
  running: number;
  lastProbe: { ok: boolean; reason: string } | null;
  /** Average points of the provider's last 10 architect grades (A = 4.0 … F = 0), from the task records. */
  grade: number | null;
  /**
   * Why the live limit is held down by grades below `defaults.gradeFloor`, or null: the daemon's, else
   * what the records say the daemon would do.
   */
  throttle: string | null;
}

export function registerProviders(ctx: CommandContext): void {
  ctx.program
    .command('providers')
    .description('provider health: breaker, live limit and its reason, in flight, last probe')
    .option('--json', 'print as JSON')
    .option('--probe', 'probe every provider now (the exact executor command with a tiny prompt)')
    .action(async (opts: { json?: boolean; probe?: boolean }) => {
      const paths = workspacePaths(ctx.workspaceRoot());
      const config = loadConfig(paths);
      const daemonUp = liveHolder(paths.lock)?.kind === 'daemon';
      const state = daemonUp ? readDaemonState(paths) : null;
      // The daemon's grades are the task records' plus what it saw since; without one, the records'.
      const client = await ctx.open({ sync: false });
      const recorded = gradesFromRecords(client.store.list());
      const recordedThrottle = (points: number[] | undefined) => {
        const cap = gradeThrottle(points, config.defaults.gradeFloor);
        return cap ? describeGradeCap(cap) : null;
      };
      const rows: ProviderRow[] = Object.entries(config.providers).map(([name, cfg]) => {
        const live = state?.providers.find((p) => p.name === name);
        return {
          name,
          kind: cfg.kind,
          hosts: cfg.hosts,
          ceiling: cfg.concurrency,
          limit: live?.limit ?? null,
          breaker: live?.breaker ?? 'no daemon',
          reason:
            live?.reason ?? (daemonUp ? 'not reported yet' : 'start `nightshift daemon` to see live limits'),
          running: live?.running ?? 0,
          lastProbe: live?.lastProbe ?? null,
          grade: live?.grade ?? averagePoints(recorded.get(name)),
          throttle: live ? (live.throttle ?? null) : recordedThrottle(recorded.get(name)),
        };
      });
      if (opts.probe) {
        const { buildHosts } = await import('../../hosts/registry.js');
        const { runProbe } = await import('../../providers/probe.js');
        const socket = ctx.io.env['NIGHTSHIFT_TMUX_SOCKET'];
        const hosts = buildHosts(config, paths, socket ? { tmuxSocket: socket } : {});
        await Promise.all(
          rows.map(async (row) => {
            const cfg = config.providers[row.name];
            const worker = cfg ? hosts.get(cfg.hosts[0] ?? '') : undefined;
            if (!cfg || !worker) return;
            try {
              await worker.prepare();
              const outcome = await runProbe(worker, row.name, cfg, ctx.io.env);
              row.lastProbe = { ok: outcome.ok, reason: `${outcome.reason} (now, on ${worker.name})` };
            } catch (err) {
              row.lastProbe = { ok: false, reason: String(err) };
            }
          }),
        );
        await Promise.all([...hosts.values()].map((h) => h.runner.close().catch(() => undefined)));
      }
      if (opts.json) {
        printJson(ctx.io, rows);
      } else {
        ctx.io.stdout(
          table(
            ['PROVIDER', 'KIND', 'BREAKER', 'LIMIT', 'RUNNING', 'GRADE', 'LAST PROBE', 'REASON'],
            rows.map((r) => [
              r.name,
              r.kind,
              r.breaker,
              `${r.limit ?? '-'}/${r.ceiling}`,
              String(r.running),
              r.grade === null ? '-' : r.grade.toFixed(1),
              r.lastProbe ? `${r.lastProbe.ok ? 'ok' : 'FAIL'}: ${visible(r.lastProbe.reason)}` : '-',
              visible(r.throttle ? `${r.throttle}; ${r.reason}` : r.reason),
            ]),
          ),
        );
      }
      if (opts.probe && rows.some((r) => r.lastProbe && !r.lastProbe.ok)) ctx.exitCode = 1;
    });
}
