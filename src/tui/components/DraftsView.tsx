/** The Drafts view: the architect's specs waiting in specs/drafts/, or the text of one. Props only. */
import { Text } from './Text.js';
import type { DraftsView as View } from '../hooks/useDraftsView.js';
import { Pane } from './Pane.js';

export interface DraftsOverlayProps {
  view: View;
  reading: boolean;
  width: number;
  height: number;
}

export function DraftsOverlay({ view, reading, width, height }: DraftsOverlayProps) {
  // Border (2), title (1), hint (1).
  const body = Math.max(1, height - 4);
  if (reading && view.selected) {
    const { first, visible, all } = view.text;
    return (
      <Pane
        title={`Draft ${view.selected.name} (lines ${first + 1}-${first + visible.length} of ${all.length})`}
        focused
        width={width}
        height={height}
      >
        <Text color="gray" wrap="truncate-end">
          e edit · A accept · X discard · Enter back to the list
        </Text>
        {visible.slice(0, body).map((line, i) => (
          <Text key={first + i} wrap="truncate-end">
            {line || ' '}
          </Text>
        ))}
      </Pane>
    );
  }
  const start = Math.max(0, Math.min(view.cursor - body + 1, view.rows.length - body));
  const rows = view.rows.slice(start, start + body);
  return (
    <Pane title={`Drafts (${view.rows.length} in specs/drafts/)`} focused width={width} height={height}>
      <Text color="gray" wrap="truncate-end">
        Enter read · e edit · A accept into the inbox · X discard · Esc close
      </Text>
      {view.rows.length === 0 ? (
        <Text color="gray">
          No drafts: `nightshift plan` writes them, and the architect's follow-ups land here.
        </Text>
      ) : (
        rows.map((r) => {
          const selected = r.name === view.selected?.name;
          const lint = r.problems.length ? ` · ${r.problems.length} lint problem(s)` : '';
          const origin = r.followUpOf ? ` · follows up ${r.followUpOf}` : '';
          return (
            <Text key={r.name} inverse={selected} wrap="truncate-end">
              {`${selected ? '>' : ' '} ${r.name}  ${r.title ?? '(no title)'}${origin}${lint}`}
            </Text>
          );
        })
      )}
    </Pane>
  );
}
