/**
 * Providers (breaker, live limit / ceiling, in flight, last probe, throughput, grades and the cap they put
 * on the limit) and hosts.
 */
import { limitText } from '../../client/providers.js';
import { describeTotal } from '../../core/usage-totals.js';
import { Text } from './Text.js';
import type { ReactElement } from 'react';
import { windowStart } from '../state/board.js';
import { cut, fit, oneLine } from '../state/format.js';
import type { HostRowView, ProviderRowView } from '../state/view.js';
import { theme } from '../theme/theme.js';
import { Pane } from './Pane.js';

export interface ProvidersPaneProps {
  providers: readonly ProviderRowView[];
  hosts: readonly HostRowView[];
  cursor: number;
  focused: boolean;
  width: number;
  height: number;
}

const BREAKER_COLOR: Readonly<Record<string, string>> = { closed: 'green', open: 'red', probing: 'yellow' };

function providerLines(p: ProviderRowView, width: number): [string, string] {
  const first = `${fit(p.name, 10)} ${fit(p.breaker, 9)} ${fit(limitText(p), 13)} run ${fit(String(p.running), 2)} ${p.spark} ${p.perHour}/h${p.frozen ? '  FROZEN' : p.budget ? '  BUDGET' : ''}`;
  const probe = p.lastProbe
    ? `probe ${p.lastProbe.ok ? 'ok' : 'FAILED'}: ${oneLine(p.lastProbe.reason)}`
    : 'no probe yet';
  const throttle = p.throttle ? ` · ${oneLine(p.throttle)}` : '';
  // Tonight's tokens and cost (docs/cost.md), and a budget that keeps the provider from new work.
  const spent = ` · ${p.usage ? describeTotal(p.usage) : 'no usage'}${p.budget ? ` · ${oneLine(p.budget)}` : ''}`;
  const second = `avg ${p.avgGrade}${throttle}${spent} · ${probe}${p.reason ? ` · ${oneLine(p.reason)}` : ''}`;
  return [cut(first, width), cut(second, width - 2)];
}

function hostLine(h: HostRowView, width: number): string {
  const state = h.over.length ? `over: ${h.over.map(oneLine).join('; ')}` : 'ok';
  return cut(`host ${fit(h.name, 10)} ${fit(h.kind, 5)} ${h.running} running · ${state}`, width);
}

export function ProvidersPane({ providers, hosts, cursor, focused, width, height }: ProvidersPaneProps) {
  const body = Math.max(0, height - 3);
  const text = Math.max(0, width - 4);
  const rows: ReactElement[] = [];
  providers.forEach((p, i) => {
    const selected = i === cursor;
    const [first, second] = providerLines(p, text);
    rows.push(
      <Text key={`p-${p.name}`} wrap="truncate-end" inverse={selected && focused} bold={selected}>
        <Text color={BREAKER_COLOR[p.breaker] ?? theme.dim}>{selected ? '›' : ' '}</Text>{' '}
        <Text color={p.frozen ? theme.frozen : undefined}>{first}</Text>
      </Text>,
      <Text
        key={`p2-${p.name}`}
        wrap="truncate-end"
        color={p.lastProbe && !p.lastProbe.ok ? 'red' : p.throttle ? 'yellow' : theme.dim}
      >
        {'    '}
        {second}
      </Text>,
    );
  });
  for (const h of hosts) {
    rows.push(
      <Text key={`h-${h.name}`} wrap="truncate-end" color={h.over.length ? 'yellow' : theme.dim}>
        {'  '}
        {hostLine(h, text)}
      </Text>,
    );
  }
  const top = windowStart(rows.length, Math.min(cursor * 2 + 1, rows.length - 1), body, 0);
  return (
    <Pane title="[3] Providers and hosts" focused={focused} width={width} height={height}>
      {rows.length === 0 ? (
        <Text color={theme.dim}>no providers configured</Text>
      ) : (
        rows.slice(top, top + body)
      )}
    </Pane>
  );
}
