/**
 * Ink's <Text>, without colour when the screen has none (theme/color.ts): `color` and `backgroundColor`
 * are dropped, and text that had a background (the FROZEN banner) is inverted instead, so it still stands
 * out. Every component draws its text with this one.
 */
import { Text as InkText } from 'ink';
import type { ComponentProps } from 'react';
import { useColor } from '../theme/color.js';

export type TextProps = ComponentProps<typeof InkText>;

export function Text(props: TextProps) {
  const color = useColor();
  if (color || (props.color === undefined && props.backgroundColor === undefined))
    return <InkText {...props} />;
  const { color: _fg, backgroundColor, ...rest } = props;
  return <InkText {...rest} inverse={props.inverse === true || backgroundColor !== undefined} />;
}
