/** Modal content: the confirm dialog, the gates menu and the help overlay. Props only. */
import { Box } from 'ink';
import { Text } from './Text.js';
import type { GateName } from '../../core/gates.js';
import type { ConfirmTarget } from '../state/ui.js';
import { theme } from '../theme/theme.js';
import { Pane } from './Pane.js';

const ACTION_LABEL: Readonly<Record<ConfirmTarget['command'], string>> = {
  kill: 'Kill',
  retry: 'Retry',
  approve: 'Approve',
  reject: 'Reject',
};

export interface ConfirmDialogProps {
  target: ConfirmTarget;
  choice: 'cancel' | 'confirm';
  width: number;
  height: number;
}

export function ConfirmDialog({ target, choice, width, height }: ConfirmDialogProps) {
  // The highlighted choice is bracketed as well as inverted: readable without colour.
  const button = (label: string, on: boolean, color?: string) => (
    <Text inverse={on} bold={on} color={on ? color : theme.dim}>
      {on ? `[ ${label} ]` : `  ${label}  `}
    </Text>
  );
  return (
    <Pane title="Confirm" focused width={width} height={height} borderColor="red">
      <Text bold wrap="truncate-end">
        {target.question}
      </Text>
      <Text wrap="truncate-end" color={theme.dim}>
        {target.detail}
      </Text>
      <Text> </Text>
      <Box>
        {button('Cancel', choice === 'cancel')}
        <Text>{'  '}</Text>
        {button(ACTION_LABEL[target.command], choice === 'confirm', 'red')}
      </Box>
    </Pane>
  );
}

export interface GateMenuItem {
  name: GateName;
  enabled: boolean;
  note: string;
}

export function GateMenu({
  items,
  cursor,
  width,
  height,
}: {
  items: readonly GateMenuItem[];
  cursor: number;
  width: number;
  height: number;
}) {
  return (
    <Pane title="Gates (apply to the next review)" focused width={width} height={height}>
      {items.map((g, i) => (
        <Text key={g.name} wrap="truncate-end" inverse={i === cursor}>
          {`${i === cursor ? '›' : ' '} [${g.enabled ? 'x' : ' '}] ${g.name.padEnd(12)} ${g.note}`}
        </Text>
      ))}
    </Pane>
  );
}

export interface HelpOverlayProps {
  lines: readonly { text: string; heading: boolean }[];
  first: number;
  total: number;
  width: number;
  height: number;
}

export function HelpOverlay({ lines, first, total, width, height }: HelpOverlayProps) {
  return (
    <Pane
      title={`Keys · ${first + 1}-${first + lines.length}/${total} · Esc closes`}
      focused
      width={width}
      height={height}
    >
      {lines.map((l, i) => (
        <Text key={i} bold={l.heading} color={l.heading ? theme.key : undefined} wrap="truncate-end">
          {l.text || ' '}
        </Text>
      ))}
    </Pane>
  );
}
