// How the canvas fits a graph into view, on open and on "Fit to view": never above 100 % (a small
// flow stays life-size), a fixed margin in pixels, and at least 50 % for small flows so a handful
// of nodes stays readable even when it overflows a narrow canvas a little.
import type { FitViewOptions } from '@xyflow/react';

/** Up to this many nodes a flow is "small": readable beats seeing every node at once. */
const SMALL_GRAPH = 12;
/** Above this many nodes only visible nodes are rendered; zooming further out would render them all. */
const LARGE_GRAPH = 200;

export function fitViewOptions(nodeCount: number): FitViewOptions {
  return {
    padding: '40px',
    maxZoom: 1,
    minZoom: nodeCount <= SMALL_GRAPH || nodeCount > LARGE_GRAPH ? 0.5 : 0.1,
  };
}
