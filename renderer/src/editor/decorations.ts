// Canvas decorations: what a source of information (a version diff today, a run's status next)
// says about nodes and edges, drawn generically by the canvas and StepNode. A new kind of
// decoration is a new provider, not a change to the canvas.
import type { ReactNode } from 'react';
import type { Workflow } from '../../../engine/api/index.js';

export interface NodeDecoration {
  /**
   * One word. The node gets `data-<kind>="<status>"` and the class `<kind>-<status>` (e.g.
   * `data-diff="changed"`, `.diff-changed`), which is all styles.css and tests need.
   */
  status: string;
  /** A short mark on the node's head: a count of attempts, a duration. */
  badge?: string;
  /** Shown when hovering the node. */
  tooltip?: string;
  /** A line under the node's head, e.g. the error a run step failed with. */
  error?: string;
}

export interface EdgeDecoration {
  /** The edge gets the class `<kind>-<status>`. */
  status: string;
  /** A short text on the edge: how many items a run's edge carried. */
  label?: string;
}

/**
 * One source of decorations. Built once per change of its source (a new diff, the next event of
 * a run), so the canvas can tell unchanged nodes by identity and not re-render them.
 */
export interface DecorationProvider {
  /** Names the data attribute and class prefix: "diff", "run-status" (`data-run-status`). */
  kind: string;
  nodes: ReadonlyMap<string, NodeDecoration>;
  edges?: ReadonlyMap<string, EdgeDecoration>;
  /** Nodes and edges that are not in the graph but drawn, read-only (removed in a diff). */
  ghosts?: Pick<Workflow, 'nodes' | 'edges'>;
}

/** A decoration as StepNode renders it: with the kind of the provider it came from. */
export type ShownDecoration = NodeDecoration & { kind: string };

/**
 * What a side panel can put on the canvas: decorations, over the draft (still editable) or over
 * another graph shown read-only instead (a version, a run's pinned version).
 */
export interface CanvasOverlay {
  decorations: readonly DecorationProvider[];
  graph?: Workflow;
  /** A line above the canvas saying what is shown. */
  banner?: ReactNode;
}

/** The decorations of one node, in provider order. */
export function nodeDecorations(providers: readonly DecorationProvider[], nodeId: string): ShownDecoration[] {
  return providers.flatMap((provider) => {
    const decoration = provider.nodes.get(nodeId);
    return decoration ? [{ kind: provider.kind, ...decoration }] : [];
  });
}

/** The label of an edge: the first provider's that gives one. */
export function edgeLabel(providers: readonly DecorationProvider[], edgeId: string): string | undefined {
  for (const provider of providers) {
    const label = provider.edges?.get(edgeId)?.label;
    if (label !== undefined) return label;
  }
  return undefined;
}

/** The classes an edge gets from every provider that decorates it. */
export function edgeClasses(providers: readonly DecorationProvider[], edgeId: string): string | undefined {
  const classes = providers.flatMap((provider) => {
    const decoration = provider.edges?.get(edgeId);
    return decoration ? [`${provider.kind}-${decoration.status}`] : [];
  });
  return classes.length > 0 ? classes.join(' ') : undefined;
}
