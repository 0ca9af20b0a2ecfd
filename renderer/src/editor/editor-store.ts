// The state of one open workflow: its graph, undo/redo history, selection and measured node sizes.
// One store per open workflow (created by EditorProvider), never a global singleton.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Workflow } from '../../../engine/api/index.js';
import { applyEdit, type GraphEdit } from './graph-edits.js';

const HISTORY_LIMIT = 200;

export interface EditorState {
  workflowId: string;
  graph: Workflow;
  past: Workflow[];
  future: Workflow[];
  selectedNodes: string[];
  selectedEdges: string[];
  measured: Record<string, { width: number; height: number }>;
  /** The graph before a gesture (a drag) that applies many transient edits and is undone as one. */
  gestureStart: Workflow | null;
  /** Bumped when the graph changes by an edit (not by loading): what autosave watches. */
  revision: number;
  lastCoalesce: string | null;

  /**
   * Applies an edit and records the graph before it for undo. Edits with the same `coalesce` key
   * in a row (typing in one field) share one undo step.
   */
  apply: (edit: GraphEdit, options?: { coalesce?: string }) => void;
  /** Edits inside a gesture are not recorded one by one. */
  beginGesture: () => void;
  endGesture: () => void;
  undo: () => void;
  redo: () => void;
  select: (nodes: string[], edges: string[]) => void;
  setMeasured: (sizes: Record<string, { width: number; height: number }>) => void;
  /** Replaces the graph from outside (a reload from the engine) without touching history. */
  load: (graph: Workflow) => void;
}

export type EditorStore = StoreApi<EditorState>;

export function createEditorStore(graph: Workflow): EditorStore {
  return createStore<EditorState>()((set, get) => ({
    workflowId: graph.id,
    graph,
    past: [],
    future: [],
    selectedNodes: [],
    selectedEdges: [],
    measured: {},
    gestureStart: null,
    revision: 0,
    lastCoalesce: null,

    apply(edit, options = {}) {
      const { graph: before, gestureStart, past, revision, lastCoalesce } = get();
      const after = applyEdit(before, edit);
      if (after === before) return;
      const coalesce = options.coalesce ?? null;
      if (gestureStart || (coalesce !== null && coalesce === lastCoalesce))
        set({ graph: after, revision: revision + 1, future: [] });
      else
        set({
          graph: after,
          past: [...past, before].slice(-HISTORY_LIMIT),
          future: [],
          revision: revision + 1,
          lastCoalesce: coalesce,
          ...pruneSelection(get(), after),
        });
    },
    beginGesture() {
      if (!get().gestureStart) set({ gestureStart: get().graph });
    },
    endGesture() {
      const { gestureStart, graph: current, past } = get();
      if (!gestureStart) return;
      set(
        gestureStart === current
          ? { gestureStart: null }
          : { gestureStart: null, past: [...past, gestureStart].slice(-HISTORY_LIMIT), future: [], lastCoalesce: null },
      );
    },
    undo() {
      const { past, future, graph: current, revision } = get();
      const previous = past.at(-1);
      if (!previous) return;
      set({
        graph: previous,
        lastCoalesce: null,
        past: past.slice(0, -1),
        future: [current, ...future],
        revision: revision + 1,
        ...pruneSelection(get(), previous),
      });
    },
    redo() {
      const { past, future, graph: current, revision } = get();
      const next = future[0];
      if (!next) return;
      set({
        graph: next,
        lastCoalesce: null,
        past: [...past, current],
        future: future.slice(1),
        revision: revision + 1,
        ...pruneSelection(get(), next),
      });
    },
    select(nodes, edges) {
      // A new selection ends typing in a field: the next edit is its own undo step.
      set({ selectedNodes: nodes, selectedEdges: edges, lastCoalesce: null });
    },
    setMeasured(sizes) {
      set({ measured: { ...get().measured, ...sizes } });
    },
    load(next) {
      set({ graph: next, ...pruneSelection(get(), next) });
    },
  }));
}

/** Selection entries whose node or edge no longer exists are dropped. */
function pruneSelection(state: EditorState, graph: Workflow): Pick<EditorState, 'selectedNodes' | 'selectedEdges'> {
  const nodes = new Set(graph.nodes.map((node) => node.id));
  const edges = new Set(graph.edges.map((edge) => edge.id));
  return {
    selectedNodes: state.selectedNodes.filter((id) => nodes.has(id)),
    selectedEdges: state.selectedEdges.filter((id) => edges.has(id)),
  };
}
