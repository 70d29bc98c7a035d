/** The Drafts view's commands (specs/drafts/ through the source's DraftsPort): open, edit, accept, discard. */
import type { TuiSource } from '../../client/live/source.js';
import type { ScreenView } from '../hooks/useScreenView.js';
import type { UiAction } from '../state/ui.js';
import type { Tone } from '../theme/theme.js';
import type { TerminalControl } from './terminal-control.js';

/** What these commands need of commands.ts's CommandDeps. */
interface DraftDeps {
  dispatch: (action: UiAction) => void;
  view: Pick<ScreenView, 'drafts'>;
  source: TuiSource;
  terminal: TerminalControl;
  env: NodeJS.ProcessEnv;
}

/** The Drafts view's commands: open it, edit the selected draft in $EDITOR, accept it, discard it. */
export function runDraftCommand(
  command: 'drafts' | 'draftEdit' | 'draftAccept' | 'draftDiscard',
  d: DraftDeps,
): boolean {
  const { dispatch, source, view } = d;
  const say = (text: string, tone: Tone = 'info') =>
    dispatch({ type: 'status', text, tone, at: source.clock.now() });
  const name = view.drafts.selected?.name;
  if (command === 'drafts') {
    dispatch({ type: 'openDrafts' });
    return true;
  }
  if (!source.drafts || !name) return true;
  switch (command) {
    case 'draftEdit': {
      let argv: string[];
      try {
        argv = source.drafts.editArgv(name, d.env);
      } catch (err) {
        say(`edit: ${(err as Error).message}`, 'error');
        return true;
      }
      const result = d.terminal.handOver(argv);
      say(`back from editing ${name} (${result.message})`, result.ok ? 'info' : 'warn');
      return true;
    }
    case 'draftAccept':
    case 'draftDiscard': {
      const outcome = command === 'draftAccept' ? source.drafts.accept(name) : source.drafts.discard(name);
      dispatch({ type: 'draftsRead', reading: false });
      say(outcome.message, outcome.ok ? 'ok' : 'error');
      source.refresh();
      return true;
    }
  }
}
