/** A bordered pane of an exact size with a one-line title; the border shows focus. */
import { Box } from 'ink';
import { Text } from './Text.js';
import type { ReactNode } from 'react';
import { useColor } from '../theme/color.js';
import { theme } from '../theme/theme.js';

export interface PaneProps {
  title: string;
  focused: boolean;
  width: number;
  height: number;
  /** Overrides the border colour (dialogs use red). */
  borderColor?: string;
  children?: ReactNode;
}

export function Pane({ title, focused, width, height, borderColor, children }: PaneProps) {
  const color = useColor();
  if (height < 3 || width < 4) return <Box width={width} height={Math.max(0, height)} />;
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      // Without colour the focused pane is drawn with a heavy border instead of a cyan one.
      borderStyle={color || !focused ? 'single' : 'bold'}
      {...(color ? { borderColor: borderColor ?? (focused ? theme.focusBorder : theme.border) } : {})}
      overflow="hidden"
    >
      <Text bold={focused} color={focused ? theme.focusBorder : undefined} wrap="truncate-end">
        {title}
      </Text>
      {children}
    </Box>
  );
}
