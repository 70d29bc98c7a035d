/** `nightshift providers [--json] [--probe]`: health, live limit and why, in flight, last probe. */
import type { ProviderView } from '../../client/providers.js';
import { describeTotal } from '../../core/usage-totals.js';
import type { CommandContext } from '../context.js';
import { printJson, table } from '../output.js';
import { visible } from '../../lib/visible.js';

export type ProviderRow = ProviderView;

export function registerProviders(ctx: CommandContext): void {
  ctx.program
    .command('providers')
    .description('provider health: breaker, live limit and its reason, in flight, last probe')
    .option('--json', 'print as JSON')
    .option('--probe', 'probe every provider now (the exact executor command with a tiny prompt)')
    .action(async (opts: { json?: boolean; probe?: boolean }) => {
      // The daemon's grades are the task records' plus what it saw since; without one, the records'.
      const client = await ctx.open({ sync: false });
      // Loaded here: the view reads the daemon's health rules (cli/command-table.ts keeps help cheap).
      const { nightStartOf, providerConfigViews, providersView } = await import('../../client/providers.js');
      const { config, paths } = client;
      const rows: ProviderRow[] = providersView({
        providers: providerConfigViews(config),
        daemonState: client.daemonState(),
        daemonUp: client.daemon() !== null,
        tasks: client.store.list(),
        toggles: client.toggles.read(),
        gradeFloor: config.defaults.gradeFloor,
        // Without a daemon, tonight is the report's default window: the last 12 hours.
        nightStart: nightStartOf(client.daemonState(), Date.now() - 12 * 60 * 60 * 1000),
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
            ['PROVIDER', 'KIND', 'BREAKER', 'LIMIT', 'RUNNING', 'GRADE', 'TONIGHT', 'LAST PROBE', 'REASON'],
            rows.map((r) => [
              r.name,
              r.kind,
              r.breaker,
              `${r.limit ?? '-'}/${r.ceiling}`,
              String(r.running),
              r.grade === null ? '-' : r.grade.toFixed(1),
              r.usage ? describeTotal(r.usage) : '-',
              r.lastProbe ? `${r.lastProbe.ok ? 'ok' : 'FAIL'}: ${visible(r.lastProbe.reason)}` : '-',
              visible([r.budget, r.throttle, r.reason].filter(Boolean).join('; ')),
            ]),
          ),
        );
      }
      if (opts.probe && rows.some((r) => r.lastProbe && !r.lastProbe.ok)) ctx.exitCode = 1;
    });
}
