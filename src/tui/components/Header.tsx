/** Two lines: workspace, daemon and freeze state; then counts per state, throughput and grade. */
import { Box } from 'ink';
import { Text } from './Text.js';
import { TASK_STATES } from '../../core/task.js';
import { cut } from '../state/format.js';
import type { HeaderView } from '../state/view.js';
import { NightBanner } from './NightBanner.js';
import { STATE_COLOR, STATE_GLYPH, theme } from '../theme/theme.js';

export interface HeaderProps {
  view: HeaderView;
  readOnly: boolean;
  width: number;
}

export function Header({ view, readOnly, width }: HeaderProps) {
  const frozen = view.frozen
    ? ' FROZEN: nothing new starts '
    : view.frozenProviders.length
      ? ` frozen: ${view.frozenProviders.join(', ')} `
      : '';
  return (
    <Box flexDirection="column" width={width} height={2}>
      <Text wrap="truncate-end">
        <Text bold>nightshift</Text>
        <NightBanner text={view.night} />
        {readOnly ? <Text color="yellow"> [read-only]</Text> : null}
        <Text color={theme.dim}> {cut(view.workspace, Math.max(10, Math.floor(width / 3)))} </Text>
        <Text color={view.daemonAlive ? 'green' : 'yellow'}>{view.daemon}</Text>
        {view.window ? <Text color={theme.dim}>{` · ${view.window}`}</Text> : null}
        {frozen ? (
          <Text backgroundColor={theme.frozen} color="white" bold>
            {' '}
            {frozen}
          </Text>
        ) : null}
      </Text>
      <Text wrap="truncate-end">
        {TASK_STATES.map((s) => (
          <Text key={s} color={STATE_COLOR[s]}>
            {`${STATE_GLYPH[s]} ${s} ${view.counts[s]}  `}
            {s === 'running' && view.collecting > 0 ? `(+${view.collecting} collecting)  ` : ''}
          </Text>
        ))}
        <Text>{`│ ${view.perHour} merged/h · avg grade tonight ${view.avgGrade}`}</Text>
      </Text>
    </Box>
  );
}
