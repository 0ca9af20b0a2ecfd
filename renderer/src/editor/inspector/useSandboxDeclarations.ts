// The editor's declarations for one node's code (see input-typings.ts), `input` typed from the
// node's input in the workflow's last run: read once per inspector, never while typing.
import { useEffect, useState } from 'react';
import { useApi } from '../../app/client-context.js';
import { useEditorState } from '../editor-context.js';
import { sandboxDeclarations } from './input-typings.js';

export function useSandboxDeclarations(nodeId: string): string {
  const api = useApi();
  const workflowId = useEditorState((state) => state.graph.id);
  // Until the last run is read (or when there is none): `input` is `any`.
  const [declarations, setDeclarations] = useState(() => sandboxDeclarations(undefined));
  useEffect(() => {
    let current = true;
    void (async () => {
      const { runs } = await api.listRuns({ workflowId, limit: 1 });
      const last = runs[0];
      if (!last) return;
      const run = await api.getRun({ runId: last.runId });
      // The latest activation of the node (a loop runs it more than once).
      const activation = run.activations.filter((candidate) => candidate.nodeId === nodeId).at(-1);
      if (current && activation) setDeclarations(sandboxDeclarations({ value: activation.input }));
    })().catch(() => {
      // No run to learn from (or the engine is away): `input` stays `any`.
    });
    return () => {
      current = false;
    };
  }, [api, workflowId, nodeId]);
  return declarations;
}
