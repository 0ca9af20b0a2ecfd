// What the editor's components share: the open workflow's store and the node type catalog.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { NodeType, WorkflowNode } from '../../../engine/api/index.js';
import type { EditorState, EditorStore } from './editor-store.js';

export interface NodeCatalog {
  list: NodeType[];
  of: (node: Pick<WorkflowNode, 'type' | 'typeVersion'>) => NodeType | undefined;
  latest: (type: string) => NodeType | undefined;
}

export function createCatalog(list: NodeType[]): NodeCatalog {
  const byKey = new Map(list.map((type) => [`${type.type}@${type.typeVersion}`, type]));
  const latest = new Map(list.filter((type) => type.latest).map((type) => [type.type, type]));
  return {
    list,
    of: (node) => byKey.get(`${node.type}@${node.typeVersion}`),
    latest: (type) => latest.get(type),
  };
}

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
