// What the run view shows at one step of a journal, derived without the network from the
// RunTimeline: each node's status (the contract's vocabulary), the canvas decorations, the edges
// that carried items, what changed since the step before, and seeking between failures and waits.
// Decorations are cached per node by content, so an unchanged node keeps its decoration object and
// the canvas does not re-render it.
import {
  latestActivations,
  nodeStatesAt,
  type ActivationState,
  type JournalEvent,
  type NodeStateAt,
  type RunState,
  type Workflow,
} from '../../../../engine/api/index.js';
import type { DecorationProvider, EdgeDecoration, NodeDecoration } from '../../editor/decorations.js';

/** How many events have a seq ≤ `seq` (events are in seq order): the RunTimeline index of a step. */
export function indexOfSeq(events: readonly JournalEvent[], seq: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((events[middle] as JournalEvent).seq <= seq) low = middle + 1;
    else high = middle;
  }
  return low;
}

const LANDMARK_KINDS: Partial<Record<JournalEvent['type'], SeekKind>> = {
  NodeFailed: 'failure',
  RunFailed: 'failure',
  WaitCreated: 'wait',
};
export type SeekKind = 'failure' | 'wait';

/** The seqs of the failure and wait events, ascending: what the scrubber's jumps go between. */
export type Landmarks = Record<SeekKind, number[]>;

/** One pass over the journal; seeking is then a binary search per step, not a scan. */
export function landmarksOf(events: readonly JournalEvent[]): Landmarks {
  const found: Landmarks = { failure: [], wait: [] };
  for (const event of events) {
    const kind = LANDMARK_KINDS[event.type];
    if (kind) found[kind].push(event.seq);
  }
  return found;
}

export interface Seek {
  previous: number | null;
  next: number | null;
}

/** The nearest landmark of each kind strictly before and strictly after `seq` (null: none). */
export function seeksAround(landmarks: Landmarks, seq: number): Record<SeekKind, Seek> {
  const around = (seqs: readonly number[]): Seek => {
    const firstAfter = firstAbove(seqs, seq);
    const firstAtOrAfter = firstAbove(seqs, seq - 1);
    return { previous: seqs[firstAtOrAfter - 1] ?? null, next: seqs[firstAfter] ?? null };
  };
  return { failure: around(landmarks.failure), wait: around(landmarks.wait) };
}

/** The index of the first entry > `value` in an ascending list. */
function firstAbove(values: readonly number[], value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((values[middle] as number) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Where a fork's inherited activation ran: the origin run and step, from its `NodeInherited` event. */
export interface Inheritance {
  runId: string;
  seq: number;
  /** The seq of the `NodeInherited` event in this run (before it, the activation is not inherited yet). */
  inheritedAt: number;
}

/** Each inherited activation of a (forked) run, by activation id. */
export function inheritancesOf(events: readonly JournalEvent[]): Map<string, Inheritance> {
  const found = new Map<string, Inheritance>();
  for (const event of events)
    if (event.type === 'NodeInherited' && event.activationId !== null)
      found.set(event.activationId, { ...event.data.from, inheritedAt: event.seq });
  return found;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** An activation's duration as of `now` (its first start to its end, or to `now` while open). */
export function activationDuration(activation: ActivationState, now: number): number | null {
  const started = activation.attempts[0]?.startedAt ?? null;
  if (started === null) return null;
  return (activation.finishedAt ?? now) - started;
}

export interface StepView {
  state: RunState;
  nodes: Record<string, NodeStateAt>;
  /** Each node's latest activation as of the step. */
  latest: Map<string, ActivationState>;
  /** The same one step earlier (k − 1): what "changed at this step" compares with. */
  before: { nodes: Record<string, NodeStateAt>; latest: Map<string, ActivationState> };
  status: DecorationProvider;
  /**
   * Nodes the step changed (the event's node and every node whose status changed: a redrive or a
   * cancellation changes several), and the divergence found by Verify replay.
   */
  marks: DecorationProvider;
}

/** The parts of a node's inspector that can change at a step. */
export type NodePart = 'status' | 'input' | 'output' | 'error' | 'attempts';

/** Which parts of `nodeId` changed at this step (compared with step k − 1). */
export function changedParts(view: StepView, nodeId: string): ReadonlySet<NodePart> {
  const parts = new Set<NodePart>();
  const after = view.latest.get(nodeId);
  const before = view.before.latest.get(nodeId);
  if (view.nodes[nodeId]?.status !== view.before.nodes[nodeId]?.status) parts.add('status');
  if (after === before) return parts;
  // A node not reached shows null input and output (as the inspector does).
  if (differs(before?.input ?? null, after?.input ?? null)) parts.add('input');
  if (differs(before?.output ?? null, after?.output ?? null)) parts.add('output');
  if (differs(before?.error ?? null, after?.error ?? null)) parts.add('error');
  if (differs(before?.attempts ?? [], after?.attempts ?? [])) parts.add('attempts');
  return parts;
}

/**
 * States share what an event did not touch, so identity settles most comparisons; equal content
 * in new objects (a node activated again with the same input) is not a change.
 */
function differs(a: unknown, b: unknown): boolean {
  return a !== b && JSON.stringify(a) !== JSON.stringify(b);
}

/**
 * Builds step views for one graph, keeping decoration objects between steps while a node's
 * content is unchanged (the canvas compares them by identity).
 */
export class StepViews {
  readonly #graph: Workflow;
  readonly #nodeIds: string[];
  readonly #statusCache = new Map<string, { signature: string; decoration: NodeDecoration }>();
  readonly #edgeCache = new Map<string, { signature: string; decoration: EdgeDecoration }>();
  readonly #derived: { state: RunState; nodes: Record<string, NodeStateAt>; latest: Map<string, ActivationState> }[] =
    [];

  constructor(graph: Workflow) {
    this.#graph = graph;
    this.#nodeIds = graph.nodes.map((node) => node.id);
  }

  /**
   * The view after `state`'s last event; `previous` is the state one event earlier, `event` the
   * step's event, `divergedNode` the node Verify replay found a divergence at.
   */
  at(state: RunState, previous: RunState, event: JournalEvent | undefined, divergedNode: string | null): StepView {
    const { nodes, latest } = this.#derive(state);
    // How many activations of a node completed on each port: the items its edges carried.
    const carried = new Map<string, number>();
    for (const activation of state.activations.values())
      if (activation.status === 'completed' && activation.port !== null) {
        const key = `${activation.nodeId}\u0000${activation.port}`;
        carried.set(key, (carried.get(key) ?? 0) + 1);
      }
    const before = this.#derive(previous);
    const now = event?.at ?? state.startedAt;
    const statusNodes = new Map<string, NodeDecoration>();
    for (const id of this.#nodeIds) {
      const node = nodes[id] as NodeStateAt;
      const activation = latest.get(id);
      const duration = activation ? activationDuration(activation, now) : null;
      const badge = [node.attempts > 1 ? `×${node.attempts}` : '', duration !== null ? formatMs(duration) : '']
        .filter(Boolean)
        .join(' · ');
      const error = node.status === 'failed' && node.error ? node.error : null;
      const decoration: NodeDecoration = {
        status: node.status,
        tooltip: `${node.status}${node.attempts > 0 ? `, ${node.attempts} attempt${node.attempts > 1 ? 's' : ''}` : ''}`,
        ...(badge && { badge }),
        ...(error && {
          error: `${error.message} [${error.kind}] after ${node.attempts} attempt${node.attempts > 1 ? 's' : ''}`,
        }),
      };
      statusNodes.set(id, this.#keep(this.#statusCache, id, decoration));
    }

    // Every edge that carried items is labelled with how many (one included), so a label's
    // absence always means "nothing passed here yet".
    const edges = new Map<string, EdgeDecoration>();
    for (const edge of this.#graph.edges) {
      const count = carried.get(`${edge.source}\u0000${edge.sourceHandle}`) ?? 0;
      const target = nodes[edge.target];
      if (count === 0 || !target || target.status === 'pending') continue;
      edges.set(edge.id, this.#keepEdge(edge.id, { status: 'carried', label: `${count}` }));
    }

    const marks = new Map<string, NodeDecoration>();
    if (event?.nodeId && nodes[event.nodeId]) marks.set(event.nodeId, STEP_MARK);
    for (const id of this.#nodeIds)
      if ((nodes[id] as NodeStateAt).status !== (before.nodes[id] as NodeStateAt).status) marks.set(id, STEP_MARK);
    if (divergedNode) marks.set(divergedNode, DIVERGED_MARK);
    return {
      state,
      nodes,
      latest,
      before,
      status: { kind: 'run-status', nodes: statusNodes, edges },
      marks: { kind: 'run-step', nodes: marks },
    };
  }

  /**
   * Node states and latest activations of a state, remembered for the last few states: stepping
   * forward, step k's "before" is step k − 1's view, so each step derives one state, not two.
   */
  #derive(state: RunState): { nodes: Record<string, NodeStateAt>; latest: Map<string, ActivationState> } {
    const cached = this.#derived.find((entry) => entry.state === state);
    if (cached) return cached;
    const entry = { state, nodes: nodeStatesAt(state, this.#nodeIds), latest: latestActivations(state) };
    this.#derived.unshift(entry);
    this.#derived.length = Math.min(this.#derived.length, 4);
    return entry;
  }

  #keep(
    cache: Map<string, { signature: string; decoration: NodeDecoration }>,
    id: string,
    decoration: NodeDecoration,
  ): NodeDecoration {
    const signature = `${decoration.status}|${decoration.badge ?? ''}|${decoration.error ?? ''}|${decoration.tooltip ?? ''}`;
    const cached = cache.get(id);
    if (cached && cached.signature === signature) return cached.decoration;
    cache.set(id, { signature, decoration });
    return decoration;
  }

  #keepEdge(id: string, decoration: EdgeDecoration): EdgeDecoration {
    const signature = `${decoration.status}|${decoration.label ?? ''}`;
    const cached = this.#edgeCache.get(id);
    if (cached && cached.signature === signature) return cached.decoration;
    this.#edgeCache.set(id, { signature, decoration });
    return decoration;
  }
}

const STEP_MARK: NodeDecoration = { status: 'changed', tooltip: 'Changed at this step' };
const DIVERGED_MARK: NodeDecoration = { status: 'diverged', tooltip: 'Verify replay diverged here' };
