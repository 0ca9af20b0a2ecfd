// The text of a `.stepwise.json` file. One formatting, so that export → import → export gives the
// same bytes and a file Stepwise wrote imports and exports unchanged. Pure.
import type { Workflow } from './workflow.js';

export const WORKFLOW_FILE_SUFFIX = '.stepwise.json';

export function formatWorkflowFile(workflow: Workflow): string {
  return `${JSON.stringify(workflow, null, 2)}\n`;
}

/** A file name for a workflow: its id, which is already file-safe. */
export function workflowFileName(workflow: Pick<Workflow, 'id'>, version?: number): string {
  return `${workflow.id}${version === undefined ? '' : `.v${version}`}${WORKFLOW_FILE_SUFFIX}`;
}
