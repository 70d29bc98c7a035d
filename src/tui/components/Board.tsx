/** The task board: only the rows in view are rendered, each a memoized line of text. */
import { Text } from './Text.js';
import { memo } from 'react';
import type { TaskState } from '../../core/task.js';
import { rangeText, taskRowText, type BoardRange, type BoardRow } from '../state/board.js';
import { fit } from '../state/format.js';
import { STATE_COLOR, STATE_GLYPH, theme } from '../theme/theme.js';
import { Pane } from './Pane.js';
import { waitingReason } from '../../client/waiting.js';
import { plural } from '../../lib/plural.js';

export interface BoardProps {
  /** The visible window of rows, already sliced. */
  rows: readonly BoardRow[];
  selectedId: string | null;
  now: number;
  total: number;
  shown: number;
  /** Why each pending task waits, as the daemon published it (daemon.json's `waiting`). */
  waiting: Readonly<Record<string, string>>;
  /** The tasks in view when not all fit ("20–38 of 50 ↑↓"), else null. */
  range: BoardRange | null;
  filter: string;
  filterEditing: boolean;
  focused: boolean;
  width: number;
  height: number;
}

const HeaderRow = memo(function HeaderRow({
  state,
  count,
  width,
}: {
  state: TaskState;
  count: number;
  width: number;
}) {
  return (
    <Text bold color={STATE_COLOR[state]} wrap="truncate-end">
      {fit(`${state} (${count})`, width)}
    </Text>
  );
});

const TaskRow = memo(function TaskRow({
  state,
  text,
  selected,
}: {
  state: TaskState;
  text: string;
  selected: boolean;
}) {
  return (
    <Text wrap="truncate-end" inverse={selected}>
      <Text color={selected ? undefined : STATE_COLOR[state]}>{STATE_GLYPH[state]}</Text> {text}
    </Text>
  );
});

export function Board(props: BoardProps) {
  const { rows, selectedId, now, width, height, focused } = props;
  const text = Math.max(0, width - 4);
  const filter = props.filterEditing
    ? ` · /${props.filter}▏`
    : props.filter
      ? ` · filter "${props.filter}"`
      : '';
  const count =
    props.shown === props.total
      ? plural(props.total, 'task')
      : `${props.shown} of ${plural(props.total, 'task')}`;
  const range = props.range ? ` · ${rangeText(props.range)}` : '';
  return (
    <Pane title={`[1] Board · ${count}${range}${filter}`} focused={focused} width={width} height={height}>
      {rows.length === 0 ? (
        <Text color={theme.dim}>
          {props.total ? 'no task matches the filter (Esc clears it)' : 'no tasks yet: drop a spec in specs/'}
        </Text>
      ) : (
        rows.map((row) =>
          row.kind === 'header' ? (
            <HeaderRow key={`h-${row.state}`} state={row.state} count={row.count} width={width - 2} />
          ) : (
            <TaskRow
              key={row.task.id}
              state={row.task.state}
              text={taskRowText(row.task, now, text, waitingReason({ waiting: props.waiting }, row.task))}
              selected={row.task.id === selectedId}
            />
          ),
        )
      )}
    </Pane>
  );
}
