// The canvas: React Flow driven by the editor store. Every change becomes a GraphEdit; a drag is
// one gesture (one undo step); connections are checked and refused with a reason. Decoration
// providers (decorations.ts) mark nodes and edges and add read-only ghosts.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
} from '@xyflow/react';
import { useCallback, useContext, useMemo, useState, type DragEvent } from 'react';
import { UNDO_PORT, type Problem, type Workflow } from '../../../engine/api/index.js';
import { useToast } from '../ui/toast.js';
import type { NodeCatalog } from './catalog.js';
import { EditorContext, useEditor, useEditorState } from './editor-context.js';
import { createEditorStore } from './editor-store.js';
import { edgeClasses, edgeLabel, nodeDecorations, type DecorationProvider } from './decorations.js';
import { connectionProblem, edgeId, newNode, type ConnectionAttempt } from './graph-edits.js';
import { fitViewOptions } from './fit-view.js';
import { stepGeometry } from './step-layout.js';
import { nodeTypes, type StepFlowNode, type StepNodeData } from './StepNode.js';

const LARGE_GRAPH = 200;

/** Marks an undo edge's element (styles and tests find it by this). */
const UNDO_EDGE_ATTRIBUTES: NonNullable<Edge['domAttributes']> & { 'data-edge-kind': string } = {
  'data-edge-kind': 'undo',
};

export const NODE_TYPE_MIME = 'application/x-stepwise-node-type';

const NO_DECORATIONS: readonly DecorationProvider[] = [];
const NO_PROBLEMS: Problem[] = [];

/** Another graph than the draft (a version, a run's pinned version), read-only, with its own viewport. */
export function ReadOnlyCanvas({
  graph,
  decorations,
  catalog: ownCatalog,
  onNodeClick,
}: {
  graph: Workflow;
  decorations: readonly DecorationProvider[];
  /** The node types, outside an editor (the run view); inside one, the editor's. */
  catalog?: NodeCatalog;
  onNodeClick?: (nodeId: string) => void;
}) {
  const outer = useContext(EditorContext);
  const catalog = ownCatalog ?? outer?.catalog;
  if (!catalog) throw new Error('ReadOnlyCanvas needs a catalog outside an editor');
  const store = useMemo(() => createEditorStore(graph), [graph]);
  const context = useMemo(() => ({ store, catalog }), [store, catalog]);
  return (
    <EditorContext.Provider value={context}>
      <ReactFlowProvider>
        <Canvas problems={NO_PROBLEMS} readOnly decorations={decorations} onNodeClick={onNodeClick} />
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}

export function Canvas({
  problems,
  readOnly = false,
  decorations = NO_DECORATIONS,
  onNodeClick,
}: {
  problems: Problem[];
  readOnly?: boolean;
  decorations?: readonly DecorationProvider[];
  /** A click on a node (the run view's inspector follows it). */
  onNodeClick?: (nodeId: string) => void;
}) {
  const { store, catalog } = useEditor();
  const toast = useToast();
  const flow = useReactFlow();
  const graph = useEditorState((state) => state.graph);
  const selectedNodes = useEditorState((state) => state.selectedNodes);
  const selectedEdges = useEditorState((state) => state.selectedEdges);
  const measured = useEditorState((state) => state.measured);

  const problemsByNode = useMemo(() => {
    const map = new Map<string, { errors: string[]; warnings: string[] }>();
    for (const problem of problems) {
      if (problem.nodeId === undefined) continue;
      const entry = map.get(problem.nodeId) ?? { errors: [], warnings: [] };
      (problem.severity === 'error' ? entry.errors : entry.warnings).push(problem.message);
      map.set(problem.nodeId, entry);
    }
    return map;
  }, [problems]);

  // Flow nodes are reused while their inputs are unchanged, so React Flow re-renders only what changed.
  // Keyed by the (immutable) workflow node: an edited node is a new object and misses the cache.
  const [cache] = useState(() => new WeakMap<Workflow['nodes'][number], { key: unknown[]; node: StepFlowNode }>());
  const nodes = useMemo(() => {
    const selected = new Set(selectedNodes);
    const build = (node: Workflow['nodes'][number], ghost: boolean): StepFlowNode => {
      const found = problemsByNode.get(node.id);
      // Providers keep a node's decoration object while it is unchanged: compared by identity.
      const marks = decorations.map((provider) => provider.nodes.get(node.id));
      const key = [selected.has(node.id), measured[node.id], found, ghost, ...marks];
      const cached = cache.get(node);
      if (cached && cached.key.length === key.length && cached.key.every((item, index) => item === key[index]))
        return cached.node;
      const data: StepNodeData = {
        node,
        nodeType: catalog.of(node),
        errors: found?.errors ?? [],
        warnings: found?.warnings ?? [],
        decorations: nodeDecorations(decorations, node.id),
      };
      const geometry = stepGeometry(data.nodeType, node.config);
      const flowNode: StepFlowNode = {
        id: node.id,
        type: 'step',
        position: node.position,
        data,
        initialWidth: geometry.width,
        initialHeight: geometry.height,
        handles: geometry.handles,
        selected: selected.has(node.id),
        ...(measured[node.id] && { measured: measured[node.id] }),
        ...(ghost && { draggable: false, selectable: false, connectable: false }),
      };
      cache.set(node, { key, node: flowNode });
      return flowNode;
    };
    const list = graph.nodes.map((node) => build(node, false));
    for (const provider of decorations) for (const ghost of provider.ghosts?.nodes ?? []) list.push(build(ghost, true));
    return list;
  }, [cache, graph.nodes, selectedNodes, measured, problemsByNode, catalog, decorations]);

  // Edges too are reused while unchanged (a run view's step changes few of them).
  const [edgeCache] = useState(() => new WeakMap<Workflow['edges'][number], Edge>());
  const edges = useMemo(() => {
    const selected = new Set(selectedEdges);
    const toEdge = (edge: Workflow['edges'][number]): Edge => {
      const undo = edge.sourceHandle === UNDO_PORT;
      // An undo edge names a compensation, not a path of the flow: drawn dashed.
      const className =
        [edgeClasses(decorations, edge.id), undo ? 'edge-undo' : ''].filter(Boolean).join(' ') || undefined;
      const label = edgeLabel(decorations, edge.id);
      const isSelected = selected.has(edge.id);
      const cached = edgeCache.get(edge);
      if (cached && cached.className === className && cached.label === label && cached.selected === isSelected)
        return cached;
      const flowEdge: Edge = {
        id: edge.id,
        source: edge.source,
        sourceHandle: edge.sourceHandle,
        target: edge.target,
        targetHandle: edge.targetHandle,
        selected: isSelected,
        ...(undo && { domAttributes: UNDO_EDGE_ATTRIBUTES }),
        ...(className !== undefined && { className }),
        ...(label !== undefined && { label }),
      };
      edgeCache.set(edge, flowEdge);
      return flowEdge;
    };
    return [
      ...graph.edges.map(toEdge),
      ...decorations.flatMap((provider) => (provider.ghosts?.edges ?? []).map(toEdge)),
    ];
  }, [edgeCache, graph.edges, selectedEdges, decorations]);

  const onNodesChange = useCallback(
    (changes: NodeChange<StepFlowNode>[]) => {
      const state = store.getState();
      const sizes: Record<string, { width: number; height: number }> = {};
      const positions: Record<string, { x: number; y: number }> = {};
      let dragging = false;
      let dragEnded = false;
      let selection: Set<string> | null = null;
      for (const change of changes) {
        if (change.type === 'dimensions' && change.dimensions) sizes[change.id] = change.dimensions;
        else if (change.type === 'position' && !readOnly) {
          if (change.position) positions[change.id] = change.position;
          if (change.dragging) dragging = true;
          else dragEnded = true;
        } else if (change.type === 'select') {
          selection ??= new Set(state.selectedNodes);
          if (change.selected) selection.add(change.id);
          else selection.delete(change.id);
        }
      }
      if (Object.keys(sizes).length > 0) state.setMeasured(sizes);
      if (dragging) state.beginGesture();
      if (Object.keys(positions).length > 0) state.apply({ type: 'move', positions });
      if (dragEnded) state.endGesture();
      if (selection) state.select([...selection], state.selectedEdges);
    },
    [readOnly, store],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const state = store.getState();
      let selection: Set<string> | null = null;
      for (const change of changes) {
        if (change.type !== 'select') continue;
        selection ??= new Set(state.selectedEdges);
        if (change.selected) selection.add(change.id);
        else selection.delete(change.id);
      }
      if (selection) state.select(state.selectedNodes, [...selection]);
    },
    [store],
  );

  const attemptOf = (connection: Connection | Edge): ConnectionAttempt => ({
    source: connection.source,
    sourceHandle: connection.sourceHandle ?? 'out',
    target: connection.target,
    targetHandle: connection.targetHandle ?? 'in',
  });

  const isValidConnection = useCallback(
    (connection: Connection | Edge) =>
      !readOnly && connectionProblem(store.getState().graph, catalog.of, attemptOf(connection)) === null,
    [catalog, readOnly, store],
  );

  const onConnect = useCallback(
    (connection: Connection) => {
      const attempt = attemptOf(connection);
      const problem = connectionProblem(store.getState().graph, catalog.of, attempt);
      if (problem) return toast(`Connection refused: ${problem}`, 'error');
      store.getState().apply({
        type: 'connect',
        edge: { id: edgeId(attempt.source, attempt.sourceHandle, attempt.target, attempt.targetHandle), ...attempt },
      });
    },
    [catalog, store, toast],
  );

  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (readOnly || state.isValid !== false || !state.fromHandle || !state.toHandle) return;
      const [from, to] =
        state.fromHandle.type === 'source' ? [state.fromHandle, state.toHandle] : [state.toHandle, state.fromHandle];
      if (from.type === to.type)
        return toast(`Connection refused: connect an output (right) to an input (left)`, 'error');
      const problem = connectionProblem(store.getState().graph, catalog.of, {
        source: from.nodeId,
        sourceHandle: from.id ?? 'out',
        target: to.nodeId,
        targetHandle: to.id ?? 'in',
      });
      if (problem) toast(`Connection refused: ${problem}`, 'error');
    },
    [catalog, readOnly, store, toast],
  );

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      const key = event.dataTransfer.getData(NODE_TYPE_MIME);
      const type = catalog.list.find((candidate) => `${candidate.type}@${candidate.typeVersion}` === key);
      if (!type || readOnly) return;
      const point = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const state = store.getState();
      const node = newNode(state.graph, type, { x: Math.round(point.x - 100), y: Math.round(point.y - 26) });
      state.apply({ type: 'add', nodes: [node], edges: [] });
      state.select([node.id], []);
    },
    [catalog, flow, readOnly, store],
  );

  return (
    <div className="canvas" onDragOver={(event) => event.preventDefault()} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<StepFlowNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        onNodeClick={onNodeClick && ((_event, node) => onNodeClick(node.id))}
        isValidConnection={isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        selectionOnDrag
        panOnDrag={[1, 2]}
        panActivationKeyCode="Space"
        panOnScroll
        zoomActivationKeyCode={['Meta', 'Control']}
        minZoom={0.05}
        maxZoom={2}
        // Large graphs open at a readable zoom and render only what is on screen (and near it).
        onlyRenderVisibleElements={graph.nodes.length > LARGE_GRAPH}
        fitView
        fitViewOptions={fitViewOptions(graph.nodes.length)}
        colorMode="system"
        defaultEdgeOptions={{ type: 'smoothstep' }}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <MiniMap pannable zoomable ariaLabel="Minimap" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
