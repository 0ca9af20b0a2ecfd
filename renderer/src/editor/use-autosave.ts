// Autosave of the draft: every edit goes to localStorage at once and to the engine shortly after
// (debounced, one save at a time). A save that fails because the engine is away is retried when
// the connection is back; `flush` waits until the engine has the current graph.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type EngineApi } from '../../../engine/api/index.js';
import { useClientStatus } from '../app/client-context.js';
import { errorText, useToast } from '../ui/toast.js';
import type { EditorStore } from './editor-store.js';
import { clearBackup, writeBackup } from './local-backup.js';

export type SaveState = 'saved' | 'saving' | 'pending' | 'offline' | 'error';

const DEBOUNCE_MS = 400;

export function useAutosave(
  store: EditorStore,
  api: EngineApi,
  options: { startsDirty: boolean; onSaved: (draftChanged: boolean) => void },
): { state: SaveState; flush: () => Promise<void> } {
  const status = useClientStatus();
  const toast = useToast();
  const [state, setState] = useState<SaveState>(options.startsDirty ? 'pending' : 'saved');
  const saved = useRef(options.startsDirty ? -1 : store.getState().revision);
  const running = useRef<Promise<boolean> | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const onSaved = useRef(options.onSaved);
  onSaved.current = options.onSaved;

  /** Saves until the engine has the latest revision; false when a save failed. */
  const saveLoop = useCallback(async (): Promise<boolean> => {
    for (;;) {
      const { graph, revision, workflowId } = store.getState();
      if (revision === saved.current) {
        clearBackup(workflowId);
        setState('saved');
        return true;
      }
      setState('saving');
      try {
        const result = await api.saveDraft({ workflowId, draft: graph });
        saved.current = revision;
        onSaved.current(result.draftChanged);
      } catch (error) {
        const offline = error instanceof ApiError && error.code === 'unavailable';
        setState(offline ? 'offline' : 'error');
        if (!offline) toast(`Could not save the draft: ${errorText(error)}`, 'error');
        return false;
      }
    }
  }, [api, store, toast]);

  const save = useCallback((): Promise<boolean> => {
    running.current ??= saveLoop().finally(() => {
      running.current = null;
    });
    return running.current;
  }, [saveLoop]);

  useEffect(
    () =>
      store.subscribe((current, previous) => {
        if (current.revision === previous.revision) return;
        writeBackup(current.graph);
        setState('pending');
        clearTimeout(timer.current);
        timer.current = setTimeout(() => void save(), DEBOUNCE_MS);
      }),
    [save, store],
  );

  useEffect(() => {
    if (status === 'ready' && saved.current !== store.getState().revision) void save();
  }, [save, status, store]);

  useEffect(() => () => clearTimeout(timer.current), []);

  const flush = useCallback(async () => {
    clearTimeout(timer.current);
    for (;;) {
      if (running.current) await running.current;
      if (saved.current === store.getState().revision) return;
      if (!(await save())) throw new ApiError('unavailable', 'the draft is not saved yet: the engine is not reachable');
    }
  }, [save, store]);

  return { state, flush };
}
