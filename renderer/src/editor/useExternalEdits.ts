// Changes made elsewhere (a rename from the list, another window, the CLI) are loaded into the
// editor when there is nothing unsaved here and no gesture in progress.
import { useCallback } from 'react';
import { useApi, useEngineEvent } from '../app/client-context.js';
import type { EditorStore } from './editor-store.js';
import type { SaveState } from './use-autosave.js';

export function useExternalEdits(
  store: EditorStore,
  workflowId: string,
  saveState: SaveState,
  onDraftChanged: (draftChanged: boolean) => void,
): void {
  const api = useApi();
  useEngineEvent(
    'workflowsChanged',
    useCallback(
      (data: { workflowId: string }) => {
        if (data.workflowId !== workflowId || saveState !== 'saved') return;
        api.getWorkflow({ workflowId }).then(
          (fresh) => {
            const state = store.getState();
            if (state.gestureStart === null && JSON.stringify(fresh.draft) !== JSON.stringify(state.graph))
              state.load(fresh.draft);
            onDraftChanged(fresh.draftChanged);
          },
          () => {},
        );
      },
      [api, onDraftChanged, saveState, store, workflowId],
    ),
  );
}
