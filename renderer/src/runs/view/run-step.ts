// What the run view shows at one step of a journal, derived without the network from the
// RunTimeline: each node's status (the contract's vocabulary), the canvas decorations, the edges
// that carried items, and seeking helpers (next failure, next wait). Decorations are cached per node
// by content, so an unchanged node keeps its decoration object and the canvas does not re-render it.
import {
  activationsOf,
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

const FAILURES: ReadonlySet<JournalEvent['type']> = new Set(['NodeFailed', 'RunFailed']);
const WAITS: ReadonlySet<JournalEvent['type']> = new Set(['WaitCreated']);
export type SeekKind = 'failure' | 'wait';
const KINDS: Record<SeekKind, ReadonlySet<JournalEvent['type']>> = { failure: FAILURES, wait: WAITS };

/** The seq of the nearest failure / wait event after (direction 1) or before (-1) `seq`; null when none. */
export function seekEvent(
  events: readonly JournalEvent[],
  seq: number,
  kind: SeekKind,
  direction: 1 | -1,
): number | null {
  const types = KINDS[kind];
  const start = indexOfSeq(events, seq) - 1;
  for (let index = start + direction; index >= 0 && index < events.length; index += direction) {
    const event = events[index] as JournalEvent;
    if (types.has(event.type)) return event.seq;
  }
  return null;
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
  status: DecorationProvider;
  /** Nodes the step's event is about (highlighted), and the divergence found by Verify replay. */
  marks: DecorationProvider;
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

  constructor(graph: Workflow) {
    this.#graph = graph;
    this.#nodeIds = graph.nodes.map((node) => node.id);
  }

  /** The view after `state`'s last event; `event` is that event (the step), `divergedNode` from Verify replay. */
  at(state: RunState, event: JournalEvent | undefined, divergedNode: string | null): StepView {
    const nodes = nodeStatesAt(state, this.#nodeIds);
    const all = activationsOf(state);
    const latest = new Map<string, ActivationState>();
    // How many activations of a node completed on each port: the items its edges carried.
    const carried = new Map<string, number>();
    for (const activation of all) {
      latest.set(activation.nodeId, activation);
      if (activation.status === 'completed' && activation.port !== null) {
        const key = `${activation.nodeId}\u0000${activation.port}`;
        carried.set(key, (carried.get(key) ?? 0) + 1);
      }
    }
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

    const edges = new Map<string, EdgeDecoration>();
    for (const edge of this.#graph.edges) {
      const count = carried.get(`${edge.source}\u0000${edge.sourceHandle}`) ?? 0;
      const target = nodes[edge.target];
      if (count === 0 || !target || target.status === 'pending') continue;
      edges.set(edge.id, this.#keepEdge(edge.id, { status: 'carried', ...(count > 1 && { label: `${count}` }) }));
    }

    const marks = new Map<string, NodeDecoration>();
    if (event?.nodeId) marks.set(event.nodeId, STEP_MARK);
    if (divergedNode) marks.set(divergedNode, DIVERGED_MARK);
    return {
      state,
      nodes,
      latest,
      status: { kind: 'run-status', nodes: statusNodes, edges },
      marks: { kind: 'run-step', nodes: marks },
    };
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
