/** The terminal's rows and columns, following resizes (tests pass a fixed size). */
import { useStdout } from 'ink';
import { useCallback, useSyncExternalStore } from 'react';

export interface TerminalSize {
  rows: number;
  cols: number;
}

const FALLBACK: TerminalSize = { rows: 24, cols: 80 };

export function useTerminalSize(fixed?: TerminalSize): TerminalSize {
  const { stdout } = useStdout();
  const subscribe = useCallback(
    (listener: () => void) => {
      if (fixed) return () => undefined;
      stdout.on('resize', listener);
      return () => {
        stdout.off('resize', listener);
      };
    },
    [stdout, fixed],
  );
  const key = useSyncExternalStore(subscribe, () =>
    fixed
      ? `${fixed.rows}x${fixed.cols}`
      : `${stdout.rows || FALLBACK.rows}x${stdout.columns || FALLBACK.cols}`,
  );
  const [rows, cols] = key.split('x').map(Number);
  return { rows: rows ?? FALLBACK.rows, cols: cols ?? FALLBACK.cols };
}
