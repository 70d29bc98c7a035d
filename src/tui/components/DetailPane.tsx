/** The selected task's detail: tab strip, a subtitle line, and the visible slice of the tab's lines. */
import { Box } from 'ink';
import { Text } from './Text.js';
import type { Line } from '../state/detail.js';
import { DETAIL_TABS, TAB_TITLES, type DetailTab } from '../state/ui.js';
import { theme } from '../theme/theme.js';
import { Lines } from './Lines.js';
import { Pane } from './Pane.js';

export interface DetailPaneProps {
  taskId: string | null;
  tab: DetailTab;
  subtitle: string;
  subtitleColor?: string;
  /** The visible lines, already sliced. */
  lines: readonly Line[];
  first: number;
  total: number;
  focused: boolean;
  width: number;
  height: number;
}

export function DetailPane(props: DetailPaneProps) {
  const { tab, lines, first, total, width, height, focused } = props;
  const scroll = total > lines.length ? ` · ${first + 1}-${first + lines.length}/${total}` : '';
  return (
    <Pane title={`[2] ${props.taskId ?? 'no task'}${scroll}`} focused={focused} width={width} height={height}>
      <Box>
        {DETAIL_TABS.map((t, i) => (
          <Text key={t} inverse={t === tab} color={t === tab ? theme.focusBorder : theme.dim}>
            {`${i ? ' ' : ''}${TAB_TITLES[t]}`}
          </Text>
        ))}
      </Box>
      <Text wrap="truncate-end" color={props.subtitleColor ?? theme.dim}>
        {props.subtitle || ' '}
      </Text>
      <Lines lines={lines} />
    </Pane>
  );
}
