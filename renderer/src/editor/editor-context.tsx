// What the editor's components share: the open workflow's store and the node type catalog.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { NodeCatalog } from './catalog.js';
import type { EditorState, EditorStore } from './editor-store.js';

export interface EditorContextValue {
  store: EditorStore;
  catalog: NodeCatalog;
}

export const EditorContext = createContext<EditorContextValue | null>(null);

export function useEditor(): EditorContextValue {
  const value = useContext(EditorContext);
  if (!value) throw new Error('useEditor outside EditorContext');
  return value;
}

export function useEditorState<T>(selector: (state: EditorState) => T): T {
  return useStore(useEditor().store, selector);
}
