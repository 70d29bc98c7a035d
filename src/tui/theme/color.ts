/**
 * Whether the screen is drawn in colour: lib/color.ts's decision (NO_COLOR), made once from the
 * environment by App and read by components/Text.tsx and Pane. Without colour the screen keeps bold,
 * inverse and dim, which carry the selection, the focus and the highlighted choice of a dialog.
 */
import { createContext, useContext } from 'react';

export const ColorContext = createContext(true);

export function useColor(): boolean {
  return useContext(ColorContext);
}
