/** The keys that work in the focused pane (generated from the keymap), and the status line. */
import { Text } from './Text.js';
import type { FooterItem } from '../keys/docs.js';
import type { Status } from '../state/ui.js';
import { theme, TONE_COLOR } from '../theme/theme.js';

export function Footer({ items }: { items: readonly FooterItem[] }) {
  return (
    <Text wrap="truncate-end">
      {items.map((item, i) => (
        <Text key={`${item.keys}-${i}`}>
          <Text color={theme.key} bold>
            {item.keys}
          </Text>
          {` ${item.label}  `}
        </Text>
      ))}
    </Text>
  );
}

export function StatusLine({ status }: { status: Status | null }) {
  return (
    <Text wrap="truncate-end" color={status ? TONE_COLOR[status.tone] : theme.dim}>
      {status?.text ?? ' '}
    </Text>
  );
}
