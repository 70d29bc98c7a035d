/** `nightshift report [--since 12h] [--format md|html|json] [--out <file>]`: the morning report. */
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { ReportFormat } from '../../client/report/index.js';
import { parseDuration } from '../../core/duration.js';
import type { CommandContext } from '../context.js';

const DEFAULT_SINCE = '12h';

/**
 * The report's formats (client/report/model.ts, REPORT_FORMATS), written out here so that registering
 * the command (for help) loads none of the report's code; the types say when the two lists differ.
 */
const REPORT_FORMATS = ['md', 'html', 'json'] as const satisfies readonly ReportFormat[];
const everyFormat: Exclude<ReportFormat, (typeof REPORT_FORMATS)[number]> extends never ? true : never = true;
void everyFormat;

function parseSince(value: string): number {
  const ms = parseDuration(value);
  if (ms === null) {
    throw new InvalidArgumentError('expected a duration like 30m, 12h, 2d or 1h30m (units: ms, s, m, h, d)');
  }
  return ms;
}

function parseFormat(value: string): ReportFormat {
  const format = REPORT_FORMATS.find((f) => f === value);
  if (!format) throw new InvalidArgumentError(`expected one of ${REPORT_FORMATS.join(', ')}`);
  return format;
}

export function registerReport(ctx: CommandContext): void {
  ctx.program
    .command('report')
    .description('the morning report: per-task digest, per-provider figures, the night’s timeline')
    .option('--since <duration>', `how far back the window reaches (default ${DEFAULT_SINCE})`, parseSince)
    .option('--format <format>', `${REPORT_FORMATS.join(' | ')} (default md)`, parseFormat)
    .option('--out <file>', 'write the report to this file (mode 0644) and print its path')
    .action(async (opts: { since?: number; format?: ReportFormat; out?: string }) => {
      // Read-only: no recovery, no inbox sweep, no requests applied.
      const client = await ctx.open({ sync: false });
      const { collectReport, renderReport } = await import('../../client/report/index.js');
      const until = ctx.io.clock.now();
      const data = collectReport({
        tasks: client.store.list(),
        eventsFile: client.paths.events,
        config: client.config,
        env: ctx.io.env,
        since: until - (opts.since ?? parseSince(DEFAULT_SINCE)),
        until,
      });
      const text = renderReport(data, opts.format ?? 'md');
      if (opts.out === undefined) {
        ctx.io.stdout(text);
        return;
      }
      const file = path.resolve(ctx.io.cwd, opts.out);
      writeFileSync(file, text, { mode: 0o644 });
      chmodSync(file, 0o644);
      ctx.io.stdout(`${file}\n`);
    });
}
