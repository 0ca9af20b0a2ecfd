// What a config field holding `{{ }}` will be, against the input of this workflow's last run: the
// engine evaluates it in the sandbox as a run would (`evaluateTemplate`), 300 ms after the last key.
import { useEffect, useState } from 'react';
import type { Result, RunSummary } from '../../../../engine/api/index.js';
import { useApi } from '../../app/client-context.js';
import { useEditorState } from '../editor-context.js';

type Preview = Result<'evaluateTemplate'>;

export function TemplatePreview({ template }: { template: string }) {
  const api = useApi();
  const workflowId = useEditorState((state) => state.graph.id);
  // undefined: not read yet; null: the workflow has no run.
  const [last, setLast] = useState<RunSummary | null | undefined>(undefined);
  const [preview, setPreview] = useState<Preview | null>(null);

  useEffect(() => {
    let current = true;
    api.listRuns({ workflowId, limit: 1 }).then(
      (page) => current && setLast(page.runs[0] ?? null),
      () => current && setLast(null),
    );
    return () => {
      current = false;
    };
  }, [api, workflowId]);

  useEffect(() => {
    if (!last) return;
    let current = true;
    const timer = setTimeout(() => {
      const run = { id: last.runId, input: last.input, startedAt: last.createdAt };
      api.evaluateTemplate({ template, input: last.input, run }).then(
        (answer) => current && setPreview(answer),
        (error: unknown) => current && setPreview({ ok: false, error: String(error) }),
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, last, template]);

  if (last === null)
    return (
      <p className="help template-preview">
        Expressions are evaluated when the node runs; run the workflow to preview.
      </p>
    );
  if (!last || !preview) return null;
  const against = `with the input of run ${last.runId.slice(0, 8)}`;
  if (!preview.ok)
    return (
      <p className="field-error template-preview" data-testid="template-preview">
        {preview.column === undefined ? '' : `column ${preview.column}: `}
        {preview.error}
      </p>
    );
  return (
    <p className="help template-preview" data-testid="template-preview" title={against}>
      = <code>{'value' in preview ? JSON.stringify(preview.value) : 'left out (undefined)'}</code>{' '}
      <span className="muted">{against}</span>
    </p>
  );
}
