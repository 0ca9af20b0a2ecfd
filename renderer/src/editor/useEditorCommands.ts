// The editor's handler for each editor command of the command table (leaving one out does not
// compile): graph edits, the view and the dialogs (Run opens the run dialog).
import { useReactFlow } from '@xyflow/react';
import { useMemo } from 'react';
import type { ScopeHandlers } from '../commands/command-registry.js';
import { useToast } from '../ui/toast.js';
import { readClip, writeClip } from './clipboard.js';
import { useEditor, useEditorState } from './editor-context.js';
import { fitViewOptions } from './fit-view.js';
import { copySelection, pasteClip, type Clip } from './graph-edits.js';
import { layoutPositions } from './layout.js';

export type EditorDialog = 'save-version' | 'help' | 'run';

const PASTE_OFFSET = { x: 40, y: 40 };

export function useEditorCommands(options: {
  openDialog: (dialog: EditorDialog) => void;
  focusSearch: () => void;
}): ScopeHandlers<'editor'> {
  const { openDialog, focusSearch } = options;
  const { store } = useEditor();
  const flow = useReactFlow();
  const toast = useToast();
  const canUndo = useEditorState((state) => state.past.length > 0);
  const canRedo = useEditorState((state) => state.future.length > 0);

  return useMemo(() => {
    const state = () => store.getState();
    const fit = () => flow.fitView({ ...fitViewOptions(state().graph.nodes.length), duration: 200 });
    /** Copies the selected nodes; false when nothing is selected. */
    const copy = () => {
      const clip = copySelection(state().graph, state().selectedNodes);
      if (clip.nodes.length === 0) return false;
      writeClip(clip);
      return true;
    };
    const paste = (clip: Clip | null) => {
      if (!clip || clip.nodes.length === 0) return;
      const pasted = pasteClip(state().graph, clip, PASTE_OFFSET);
      state().apply({ type: 'add', ...pasted });
      state().select(
        pasted.nodes.map((node) => node.id),
        [],
      );
    };
    return {
      undo: { run: () => state().undo(), disabled: !canUndo },
      redo: { run: () => state().redo(), disabled: !canRedo },
      cut: {
        run: () => {
          if (copy()) state().apply({ type: 'remove', nodeIds: state().selectedNodes, edgeIds: [] });
        },
      },
      copy: {
        run: () => {
          if (copy()) toast(`Copied ${state().selectedNodes.length} node(s)`);
        },
      },
      paste: { run: () => paste(readClip()) },
      duplicate: { run: () => paste(copySelection(state().graph, state().selectedNodes)) },
      'select-all': {
        run: () =>
          state().select(
            state().graph.nodes.map((node) => node.id),
            state().graph.edges.map((edge) => edge.id),
          ),
      },
      delete: {
        run: () => {
          const { selectedNodes, selectedEdges, apply } = state();
          if (selectedNodes.length + selectedEdges.length > 0)
            apply({ type: 'remove', nodeIds: selectedNodes, edgeIds: selectedEdges });
        },
      },
      'save-version': { run: () => openDialog('save-version') },
      layout: {
        run: async () => {
          const positions = await layoutPositions(state().graph, state().measured);
          state().apply({ type: 'move', positions });
          await fit();
        },
      },
      fit: { run: () => void fit() },
      'zoom-in': { run: () => void flow.zoomIn({ duration: 150 }) },
      'zoom-out': { run: () => void flow.zoomOut({ duration: 150 }) },
      'search-nodes': { run: focusSearch },
      help: { run: () => openDialog('help') },
      deselect: { run: () => state().select([], []) },
      // The dialog says when the draft has problems (and keeps Run disabled there).
      run: { run: () => openDialog('run') },
    };
  }, [canRedo, canUndo, flow, focusSearch, openDialog, store, toast]);
}
