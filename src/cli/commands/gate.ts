/** `nightshift gate ls | on <name> | off <name>`: gate toggles persist and apply to the next review. */
import { InvalidArgumentError } from 'commander';
import { GATE_NAMES, isGateName, type GateName } from '../../core/gates.js';
import type { Config } from '../../config/schema.js';
import type { Toggles } from '../../client/workspace.js';
import type { CommandContext } from '../context.js';
import { printJson, table } from '../output.js';
import { sendRequest } from './task-requests.js';

function parseGate(value: string): GateName {
  if (!isGateName(value)) throw new InvalidArgumentError(`expected one of ${GATE_NAMES.join(', ')}`);
  return value;
}

export interface GateRow {
  name: GateName;
  enabled: boolean;
  source: 'config' | 'toggle' | 'default';
  detail: string;
}

export function gateRows(config: Config, toggles: Toggles): GateRow[] {
  return GATE_NAMES.map((name) => {
    const cfg = config.gates[name] as ({ enabled: boolean } & Record<string, unknown>) | undefined;
    const toggle = toggles.gates[name];
    const enabled = toggle ?? cfg?.enabled ?? false;
    const source = toggle !== undefined ? 'toggle' : cfg ? 'config' : 'default';
    const detail = cfg
      ? Object.entries(cfg)
          .filter(([k]) => k !== 'enabled')
          .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(' ') : String(v)}`)
          .join(' ')
      : 'not configured';
    return { name, enabled, source, detail };
  });
}

export function registerGate(ctx: CommandContext): void {
  const gate = ctx.program.command('gate').description('list and toggle quality gates');
  gate
    .command('ls')
    .description('list gates, whether each is on, and why')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const client = await ctx.open();
      const rows = gateRows(client.config, client.toggles.read());
      if (opts.json) printJson(ctx.io, rows);
      else
        ctx.io.stdout(
          table(
            ['GATE', 'STATE', 'SET BY', 'DETAIL'],
            rows.map((r) => [r.name, r.enabled ? 'on' : 'off', r.source, r.detail]),
          ),
        );
    });
  for (const enabled of [true, false]) {
    gate
      .command(enabled ? 'on' : 'off')
      .description(`turn a gate ${enabled ? 'on' : 'off'} (persists; applies to the next review)`)
      .argument('<name>', GATE_NAMES.join(' | '), parseGate)
      .action((name: GateName) => sendRequest(ctx, { kind: 'gate', gate: name, enabled }));
  }
}
