// The content hash of a workflow graph: what makes identical content one version, in every store.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../model/canonical-json.js';
import type { Workflow } from '../model/workflow.js';

export function contentHash(graph: Workflow): string {
  return createHash('sha256').update(canonicalJson(graph)).digest('hex');
}
