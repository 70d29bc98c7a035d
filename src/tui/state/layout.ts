/**
 * Where everything goes, from the terminal size. The root is one row shorter than the terminal: on
 * Ink 6 a frame as tall as the screen clears it on every render (flicker and lost scrollback).
 */

export const MIN_ROWS = 16;
export const MIN_COLS = 60;

/** Lines a bordered pane spends on its border (2) and title (1). */
export const PANE_CHROME = 3;

export interface Layout {
  cols: number;
  /** The root's height: rows − 1. */
  height: number;
  tooSmall: boolean;
  headerH: number;
  topH: number;
  bottomH: number;
  boardW: number;
  detailW: number;
  providersW: number;
  eventsW: number;
  /** Content lines inside each pane (without border and title). */
  boardBody: number;
  detailBody: number;
  bottomBody: number;
  /** Columns of text inside a pane. */
  boardText: number;
  detailText: number;
  providersText: number;
  eventsText: number;
}

/** The providers pane shows two lines per provider and one per host. */
export function providersPaneLines(providers: number, hosts: number): number {
  return providers * 2 + hosts;
}

export function computeLayout(size: { rows: number; cols: number }, providerLines: number): Layout {
  const cols = Math.max(1, size.cols);
  const height = Math.max(1, size.rows - 1);
  const headerH = 2;
  const bodyH = Math.max(0, height - headerH - 2); // footer + status line
  const bottomH = Math.min(Math.max(providerLines + PANE_CHROME, 6), Math.max(6, Math.floor(bodyH * 0.4)));
  const topH = Math.max(0, bodyH - bottomH);
  // The board wants room for titles; past 140 columns the detail gets the rest.
  const boardW = cols >= 140 ? Math.floor(cols * 0.45) : Math.floor(cols * 0.55);
  const providersW = boardW;
  return {
    cols,
    height,
    tooSmall: size.rows < MIN_ROWS || size.cols < MIN_COLS,
    headerH,
    topH,
    bottomH,
    boardW,
    detailW: cols - boardW,
    providersW,
    eventsW: cols - providersW,
    boardBody: Math.max(0, topH - PANE_CHROME),
    detailBody: Math.max(0, topH - PANE_CHROME - 2), // the tab strip and a subtitle line
    bottomBody: Math.max(0, bottomH - PANE_CHROME),
    boardText: Math.max(0, boardW - 2),
    detailText: Math.max(0, cols - boardW - 2),
    providersText: Math.max(0, providersW - 2),
    eventsText: Math.max(0, cols - providersW - 2),
  };
}

/** The zoomed detail (`z`): the whole body, header to footer, is the detail pane. */
export function zoomLayout(l: Layout): Layout {
  const topH = l.topH + l.bottomH;
  return {
    ...l,
    topH,
    bottomH: 0,
    detailW: l.cols,
    detailBody: Math.max(0, topH - PANE_CHROME - 2),
    detailText: Math.max(0, l.cols - 2),
  };
}
