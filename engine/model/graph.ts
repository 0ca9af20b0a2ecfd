// Graph helpers over a workflow's nodes and edges. Pure.
import type { Workflow } from './workflow.js';

type Graph = Pick<Workflow, 'nodes' | 'edges'>;

export function successors(graph: Graph): Map<string, string[]> {
  const next = new Map<string, string[]>(graph.nodes.map((node) => [node.id, []]));
  for (const edge of graph.edges) next.get(edge.source)?.push(edge.target);
  return next;
}

/** The first cycle found, as node ids with the first repeated at the end; null for a DAG. */
export function findCycle(graph: Graph): string[] | null {
  const next = successors(graph);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 'open');
    stack.push(id);
    for (const target of next.get(id) ?? []) {
      const seen = state.get(target);
      if (seen === 'open') return [...stack.slice(stack.indexOf(target)), target];
      if (seen === undefined && next.has(target)) {
        const cycle = visit(target);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const node of graph.nodes) {
    if (state.has(node.id)) continue;
    const cycle = visit(node.id);
    if (cycle) return cycle;
  }
  return null;
}

export function reachableFrom(graph: Graph, starts: readonly string[]): Set<string> {
  const next = successors(graph);
  const seen = new Set<string>();
  const queue = [...starts];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...(next.get(id) ?? []));
  }
  return seen;
}
