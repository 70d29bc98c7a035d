/**
 * The one key dispatcher. Layers are tried in order — a modal (dialog, menu, help, filter input)
 * first, then the focused pane, then global — and the first handler that returns true consumes the
 * key. A modal consumes every key but Ctrl+C; a key nothing takes is explained, never ignored.
 */
import { commandFor, hiddenCommandFor, keyLabel, type Scope } from './bindings.js';
import { COMMAND_LABELS, type Command } from './commands.js';
import type { KeyPress } from './normalize.js';

export interface Layer {
  scope: Scope;
  /** Runs a command; returns true when it consumed the key (a disabled command says why and consumes). */
  run(command: Command, key: KeyPress): boolean;
  /** Keys no command takes (the filter input types them). */
  fallback?(key: KeyPress): boolean;
  /** A modal layer swallows everything but these keys; `hint` says how to leave it. */
  modal?: { passThrough: readonly string[]; hint: string };
}

export function dispatchKey(
  layers: readonly Layer[],
  key: KeyPress,
  opts: { readOnly: boolean; say: (text: string) => void },
): void {
  for (const layer of layers) {
    const command = commandFor(layer.scope, key.name, opts.readOnly);
    if (command && layer.run(command, key)) return;
    if (layer.fallback?.(key)) return;
    if (layer.modal && !layer.modal.passThrough.includes(key.name)) {
      const hidden = opts.readOnly ? hiddenCommandFor(layer.scope, key.name) : null;
      opts.say(
        hidden
          ? `${keyLabel(key.name)}: ${COMMAND_LABELS[hidden]} is not available in --read-only mode`
          : `${keyLabel(key.name)}: not used here — ${layer.modal.hint}`,
      );
      return;
    }
  }
  if (opts.readOnly) {
    for (const layer of layers) {
      const hidden = hiddenCommandFor(layer.scope, key.name);
      if (hidden) {
        opts.say(`${keyLabel(key.name)}: ${COMMAND_LABELS[hidden]} is not available in --read-only mode`);
        return;
      }
    }
  }
  opts.say(`${keyLabel(key.name)}: no key bound here — ? shows every key`);
}
