/** Pre-sliced display lines, one memoized <Text> each (only the visible ones are ever passed in). */
import { Text } from './Text.js';
import { memo } from 'react';
import type { Line } from '../state/detail.js';

const LineRow = memo(function LineRow({ line }: { line: Line }) {
  return (
    <Text wrap="truncate-end" color={line.color} bold={line.bold} dimColor={line.dim}>
      {line.text || ' '}
    </Text>
  );
});

export function Lines({ lines }: { lines: readonly Line[] }) {
  return (
    <>
      {lines.map((line, i) => (
        <LineRow key={i} line={line} />
      ))}
    </>
  );
}
