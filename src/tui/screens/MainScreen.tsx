/** The one screen: header, board | detail, providers | events, footer and status line. */
import { Box } from 'ink';
import { Text } from '../components/Text.js';
import { ArchitectView } from '../components/ArchitectView.js';
import { Board } from '../components/Board.js';
import { DetailPane } from '../components/DetailPane.js';
import { ConfirmDialog, GateMenu, HelpOverlay } from '../components/Dialogs.js';
import { DraftsOverlay } from '../components/DraftsView.js';
import { EventsPane } from '../components/EventsPane.js';
import { Footer, StatusLine } from '../components/Footer.js';
import { Header } from '../components/Header.js';
import { ProvidersPane } from '../components/ProvidersPane.js';
import type { ScreenView } from '../hooks/useScreenView.js';
import { MIN_COLS, MIN_ROWS } from '../state/layout.js';
import type { Status, UiState } from '../state/ui.js';

const CONFIRM_HEIGHT = 7;

export interface MainScreenProps {
  view: ScreenView;
  ui: UiState;
  status: Status | null;
  readOnly: boolean;
  now: number;
  total: number;
}

export function MainScreen({ view, ui, status, readOnly, now, total }: MainScreenProps) {
  const { layout } = view;
  const bodyH = layout.topH + layout.bottomH;
  let body;
  if (layout.tooSmall) {
    body = (
      <Box height={bodyH}>
        <Text color="yellow">{`The terminal is too small: nightshift needs ${MIN_COLS}×${MIN_ROWS}.`}</Text>
      </Box>
    );
  } else if (ui.modal?.kind === 'drafts') {
    body = <DraftsOverlay view={view.drafts} reading={ui.modal.reading} width={layout.cols} height={bodyH} />;
  } else if (ui.modal?.kind === 'help') {
    body = (
      <HelpOverlay
        lines={view.help.visible}
        first={view.help.first}
        total={view.help.all.length}
        width={layout.cols}
        height={bodyH}
      />
    );
  } else if (view.architect && !ui.modal) {
    const a = view.architect;
    body = (
      <ArchitectView
        title={a.title}
        subtitle={a.subtitle}
        {...(a.subtitleColor ? { subtitleColor: a.subtitleColor } : {})}
        live={a.live}
        queue={a.queue}
        triage={a.triage.visible}
        triageFirst={a.triage.first}
        triageTotal={a.triage.all.length}
        focused={ui.focus === 'architect'}
        width={layout.cols}
        topH={a.topH}
        bottomH={a.bottomH}
        leftW={layout.providersW}
      />
    );
  } else {
    const detail = (height: number) => (
      <DetailPane
        taskId={view.task?.id ?? null}
        tab={ui.tab}
        subtitle={view.detail.subtitle}
        {...(view.detail.subtitleColor ? { subtitleColor: view.detail.subtitleColor } : {})}
        lines={view.detail.visible}
        first={view.detail.first}
        total={view.detail.all.length}
        focused={ui.focus === 'detail'}
        width={layout.detailW}
        height={height}
      />
    );
    // A dialog or menu sits on top of the detail pane, which keeps what is left of the height.
    const modalH =
      ui.modal?.kind === 'confirm' ? CONFIRM_HEIGHT : ui.modal?.kind === 'gates' ? view.gates.length + 3 : 0;
    const top = Math.min(layout.topH, modalH);
    const right = (
      <Box flexDirection="column" width={layout.detailW} height={layout.topH}>
        {ui.modal?.kind === 'confirm' ? (
          <ConfirmDialog
            target={ui.modal.target}
            choice={ui.modal.choice}
            width={layout.detailW}
            height={top}
          />
        ) : ui.modal?.kind === 'gates' ? (
          <GateMenu items={view.gates} cursor={ui.modal.cursor} width={layout.detailW} height={top} />
        ) : null}
        {layout.topH - top >= 3 ? detail(layout.topH - top) : null}
      </Box>
    );
    body = view.zoomed ? (
      right
    ) : (
      <>
        <Box height={layout.topH}>
          <Board
            rows={view.visibleRows}
            selectedId={view.selectedId}
            now={now}
            total={total}
            shown={view.shown}
            range={view.boardRange}
            waiting={view.waiting}
            filter={ui.filter}
            filterEditing={ui.filterEditing}
            focused={ui.focus === 'board'}
            width={layout.boardW}
            height={layout.topH}
          />
          {right}
        </Box>
        <Box height={layout.bottomH}>
          <ProvidersPane
            providers={view.providers}
            hosts={view.hosts}
            cursor={ui.providerCursor}
            focused={ui.focus === 'providers'}
            width={layout.providersW}
            height={layout.bottomH}
          />
          <EventsPane
            lines={view.events.visible}
            back={ui.eventsBack}
            focused={ui.focus === 'events'}
            width={layout.eventsW}
            height={layout.bottomH}
          />
        </Box>
      </>
    );
  }
  return (
    <Box flexDirection="column" width={layout.cols} height={layout.height} overflow="hidden">
      <Header view={view.header} readOnly={readOnly} width={layout.cols} />
      {body}
      <Footer items={view.footer} />
      <StatusLine status={status} />
    </Box>
  );
}
