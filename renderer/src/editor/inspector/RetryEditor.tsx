// A node's retry policy: the type's default, or an override edited field by field.
import type { NodeType, RetryPolicy, WorkflowNode } from '../../../../engine/api/index.js';
import { useEditor } from '../editor-context.js';

const RETRY_FIELDS: { key: keyof RetryPolicy; label: string; step?: number }[] = [
  { key: 'maxAttempts', label: 'Max attempts' },
  { key: 'initialIntervalMs', label: 'Initial interval (ms)' },
  { key: 'backoffCoefficient', label: 'Backoff coefficient', step: 0.1 },
  { key: 'maxIntervalMs', label: 'Max interval (ms)' },
  { key: 'jitter', label: 'Jitter (0–1)', step: 0.05 },
];

export function RetryEditor({ node, type }: { node: WorkflowNode; type: NodeType }) {
  const { store } = useEditor();
  const override = node.retry;
  const effective = { ...type.retry, ...override };
  const setRetry = (retry: WorkflowNode['retry']) =>
    store
      .getState()
      .apply({ type: 'update-node', nodeId: node.id, patch: { retry } }, { coalesce: `${node.id}.retry` });
  return (
    <fieldset className="retry">
      <legend>
        <label>
          <input
            type="checkbox"
            checked={override !== undefined}
            aria-label="Override retry policy"
            onChange={(event) => setRetry(event.target.checked ? { ...type.retry } : undefined)}
          />{' '}
          Custom retry policy
        </label>
      </legend>
      {override === undefined ? (
        <p className="help">
          Default for {type.title}:{' '}
          {type.retry.maxAttempts === 1
            ? 'no retries'
            : `up to ${type.retry.maxAttempts} attempts, ${type.retry.initialIntervalMs} ms × ${type.retry.backoffCoefficient}`}
          .
        </p>
      ) : (
        <div className="retry-grid">
          {RETRY_FIELDS.map(({ key, label, step }) => (
            <label key={key} className="field">
              <span>{label}</span>
              <input
                type="number"
                step={step ?? 1}
                value={effective[key] as number}
                onChange={(event) => setRetry({ ...override, [key]: Number(event.target.value) })}
              />
            </label>
          ))}
          <label className="field wide">
            <span>Never retry error kinds (comma-separated)</span>
            <input
              value={effective.nonRetryableErrorKinds.join(', ')}
              placeholder="http.4xx, code.error"
              onChange={(event) =>
                setRetry({
                  ...override,
                  nonRetryableErrorKinds: event.target.value
                    .split(',')
                    .map((kind) => kind.trim())
                    .filter(Boolean),
                })
              }
            />
          </label>
        </div>
      )}
    </fieldset>
  );
}
