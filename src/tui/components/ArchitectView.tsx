/**
 * The Architect view (key 5): the review in progress, live, across the top; the tasks waiting and the
 * recent verdicts, and the triage log, below. Props only: lines arrive sliced to what fits.
 */
import { Box } from 'ink';
import { Text } from './Text.js';
import type { Line } from '../state/detail.js';
import { theme } from '../theme/theme.js';
import { Lines } from './Lines.js';
import { Pane } from './Pane.js';

export interface ArchitectViewProps {
  title: string;
  subtitle: string;
  subtitleColor?: string;
  /** The live pane's lines (the streamed text, or the session's screen), already sliced. */
  live: readonly Line[];
  queue: readonly Line[];
  triage: readonly Line[];
  /** Lines of the triage log scrolled past. */
  triageFirst: number;
  triageTotal: number;
  focused: boolean;
  width: number;
  topH: number;
  bottomH: number;
  leftW: number;
}

export function ArchitectView(p: ArchitectViewProps) {
  const scroll =
    p.triageTotal > p.triage.length
      ? ` · ${p.triageFirst + 1}-${p.triageFirst + p.triage.length}/${p.triageTotal} (j/k)`
      : '';
  return (
    <>
      <Box height={p.topH}>
        <Pane title={`[5] Architect · ${p.title}`} focused={p.focused} width={p.width} height={p.topH}>
          <Text wrap="truncate-end" color={p.subtitleColor ?? theme.dim}>
            {p.subtitle || ' '}
          </Text>
          {p.live.length ? <Lines lines={p.live} /> : <Text color={theme.dim}>nothing streamed yet</Text>}
        </Pane>
      </Box>
      <Box height={p.bottomH}>
        <Pane title="Waiting and verdicts" focused={false} width={p.leftW} height={p.bottomH}>
          <Lines lines={p.queue} />
        </Pane>
        <Pane title={`Triage log${scroll}`} focused={false} width={p.width - p.leftW} height={p.bottomH}>
          <Lines lines={p.triage} />
        </Pane>
      </Box>
    </>
  );
}
