// Edits not yet confirmed by the engine are kept in localStorage, so that a reload or a crash
// (of the page or of the engine host) loses nothing typed. Removed once the engine has them.
import type { Workflow } from '../../../engine/api/index.js';

const key = (workflowId: string) => `stepwise.unsaved.${workflowId}`;

export function writeBackup(graph: Workflow): void {
  try {
    localStorage.setItem(key(graph.id), JSON.stringify({ graph, at: Date.now() }));
  } catch {
    // Storage full or disabled: autosave to the engine still runs.
  }
}

export function readBackup(workflowId: string): Workflow | null {
  try {
    const text = localStorage.getItem(key(workflowId));
    if (!text) return null;
    const value = JSON.parse(text) as { graph?: Workflow };
    return value.graph?.id === workflowId ? value.graph : null;
  } catch {
    return null;
  }
}

export function clearBackup(workflowId: string): void {
  localStorage.removeItem(key(workflowId));
}
