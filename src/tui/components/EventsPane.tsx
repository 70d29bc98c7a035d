/** The tail of logs/events.jsonl (already sliced to what fits). */
import { Text } from './Text.js';
import type { Line } from '../state/detail.js';
import { theme } from '../theme/theme.js';
import { Lines } from './Lines.js';
import { Pane } from './Pane.js';

export interface EventsPaneProps {
  lines: readonly Line[];
  back: number;
  focused: boolean;
  width: number;
  height: number;
}

/** When focused, the bottom line is the cursor: Enter opens its task. */
export function EventsPane({ lines, back, focused, width, height }: EventsPaneProps) {
  const shown =
    focused && lines.length
      ? [
          ...lines.slice(0, -1),
          { ...lines[lines.length - 1]!, text: `› ${lines[lines.length - 1]!.text}`, bold: true },
        ]
      : lines;
  return (
    <Pane
      title={`[4] Events${back ? ` · ${back} back (G: newest)` : ''}`}
      focused={focused}
      width={width}
      height={height}
    >
      {shown.length ? <Lines lines={shown} /> : <Text color={theme.dim}>no events yet</Text>}
    </Pane>
  );
}
