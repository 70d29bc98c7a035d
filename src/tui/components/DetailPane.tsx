/** The selected task's detail: tab strip, a subtitle line, and the visible slice of the tab's lines. */
import { Box } from 'ink';
import { Text } from './Text.js';
import type { Line } from '../state/detail.js';
import { DETAIL_TABS, TAB_TITLES, type DetailTab } from '../state/ui.js';
import { theme } from '../theme/theme.js';
import { PANE_CHROME } from '../state/layout.js';
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
  const { tab, first, total, width, height, focused } = props;
  // No more lines than the pane holds under its title, tabs and subtitle: a dialog above it makes it
  // shorter than the layout's detail, and lines that overflow made Yoga shrink the tab strip to nothing,
  // so the subtitle was drawn over it ("3 transitionsory").
  const lines = props.lines.slice(0, Math.max(0, height - PANE_CHROME - 2));
  const scroll = total > lines.length ? ` · ${first + 1}-${first + lines.length}/${total}` : '';
  return (
    <Pane title={`[2] ${props.taskId ?? 'no task'}${scroll}`} focused={focused} width={width} height={height}>
      <Box flexShrink={0}>
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
