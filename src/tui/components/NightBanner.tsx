/** The header's banner for the night's end: what happened, and the key that opens the morning report. */
import { Text } from 'ink';
import { keyLabel, keysFor } from '../keys/bindings.js';

export function NightBanner({ text }: { text: string | null | undefined }) {
  if (!text) return null;
  const key = keysFor('global', 'morningReport')[0];
  return (
    <Text>
      {' '}
      <Text backgroundColor="green" color="black" bold>
        {` ${text}${key ? ` · ${keyLabel(key)}: morning report` : ''} `}
      </Text>
    </Text>
  );
}
