// The inspector: the selected node's config as a form generated from its type's JSON Schema
// (required fields, defaults, enums, help text), Monaco for code / expressions / JSON, the retry
// policy, name and notes. With nothing selected: the workflow's own name and description.
import { lazy, Suspense, useState } from 'react';
import type { NodeType, Problem, RetryPolicy, WorkflowNode } from '../../../engine/api/index.js';
import { Icon } from '../ui/Icon.js';
import { useEditor, useEditorState } from './editor-context.js';
import type { MonacoLanguage } from './MonacoField.js';

const MonacoField = lazy(() => import('./MonacoField.js'));

interface FieldSchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
}

export function Inspector({ problems }: { problems: Problem[] }) {
  const selectedNodes = useEditorState((state) => state.selectedNodes);
  const node = useEditorState((state) =>
    state.selectedNodes.length === 1
      ? state.graph.nodes.find((candidate) => candidate.id === state.selectedNodes[0])
      : undefined,
  );
  return (
    <aside className="inspector" aria-label="Inspector" data-testid="inspector">
      {node ? (
        <NodeInspector key={node.id} node={node} problems={problems.filter((problem) => problem.nodeId === node.id)} />
      ) : selectedNodes.length > 1 ? (
        <p className="muted">{selectedNodes.length} nodes selected.</p>
      ) : (
        <WorkflowInspector />
      )}
    </aside>
  );
}

function WorkflowInspector() {
  const { store } = useEditor();
  const graph = useEditorState((state) => state.graph);
  return (
    <div className="inspector-body">
      <h2>Workflow</h2>
      <label className="field">
        <span>Name</span>
        <input
          value={graph.name}
          onChange={(event) =>
            store.getState().apply({ type: 'rename-workflow', name: event.target.value }, { coalesce: 'workflow.name' })
          }
        />
      </label>
      <p className="muted">
        Id <code>{graph.id}</code> · {graph.nodes.length} nodes · {graph.edges.length} connections
      </p>
      <p className="muted">Select a node to configure it.</p>
    </div>
  );
}

function NodeInspector({ node, problems }: { node: WorkflowNode; problems: Problem[] }) {
  const { store, catalog } = useEditor();
  const type = catalog.of(node);
  const apply = store.getState().apply;
  const schema = (type?.configSchema ?? {}) as { properties?: Record<string, FieldSchema>; required?: string[] };
  const required = new Set(schema.required ?? []);
  const nodeProblems = problems.filter(
    (problem) => problem.field === undefined || !(problem.field in (schema.properties ?? {})),
  );
  return (
    <div className="inspector-body">
      <div className="inspector-title">
        <span className={`step-icon cat-${(type?.category ?? 'unknown').toLowerCase()}`}>
          <Icon name={type?.icon ?? 'alert'} />
        </span>
        <div>
          <h2>{type?.title ?? node.type}</h2>
          <span className="muted">
            {node.type} v{node.typeVersion} · id <code>{node.id}</code>
          </span>
        </div>
      </div>
      {type && <p className="help">{type.description}</p>}
      {nodeProblems.map((problem) => (
        <p key={problem.message} className={`problem-inline ${problem.severity}`}>
          {problem.message}
        </p>
      ))}
      <label className="field">
        <span>Name</span>
        <input
          value={node.name ?? ''}
          placeholder={node.id}
          aria-label="Node name"
          onChange={(event) =>
            apply(
              {
                type: 'update-node',
                nodeId: node.id,
                patch: { name: event.target.value === '' ? undefined : event.target.value },
              },
              { coalesce: `${node.id}.name` },
            )
          }
        />
      </label>
      {Object.entries(schema.properties ?? {}).map(([field, fieldSchema]) => (
        <ConfigField
          key={field}
          node={node}
          field={field}
          schema={fieldSchema}
          required={required.has(field)}
          problems={problems.filter((problem) => problem.field === field)}
        />
      ))}
      {type && <RetryEditor node={node} type={type} />}
      <label className="field">
        <span>Notes</span>
        <textarea
          rows={3}
          value={node.notes ?? ''}
          aria-label="Notes"
          placeholder="Why this step exists, who owns it…"
          onChange={(event) =>
            apply(
              {
                type: 'update-node',
                nodeId: node.id,
                patch: { notes: event.target.value === '' ? undefined : event.target.value },
              },
              { coalesce: `${node.id}.notes` },
            )
          }
        />
      </label>
    </div>
  );
}

function kindOf(
  schema: FieldSchema,
): 'code' | 'expression' | 'markdown' | 'enum' | 'string' | 'number' | 'boolean' | 'json' {
  if (schema.enum) return 'enum';
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'string') {
    if (schema.format === 'code') return 'code';
    if (schema.format === 'expression') return 'expression';
    if (schema.format === 'markdown') return 'markdown';
    return 'string';
  }
  if (type === 'number' || type === 'integer') return 'number';
  if (type === 'boolean') return 'boolean';
  return 'json';
}

function ConfigField(props: {
  node: WorkflowNode;
  field: string;
  schema: FieldSchema;
  required: boolean;
  problems: Problem[];
}) {
  const { node, field, schema, required, problems } = props;
  const { store } = useEditor();
  const value = node.config[field];
  const set = (next: unknown) =>
    store
      .getState()
      .apply({ type: 'set-config', nodeId: node.id, field, value: next }, { coalesce: `${node.id}.config.${field}` });
  const kind = kindOf(schema);
  const id = `${node.id}-${field}`;
  const placeholder = schema.default === undefined ? '' : `default: ${JSON.stringify(schema.default)}`;

  let control;
  if (kind === 'code' || kind === 'expression' || kind === 'json') {
    const language: MonacoLanguage = kind === 'json' ? 'json' : 'javascript';
    const text =
      kind === 'json'
        ? value === undefined
          ? ''
          : JSON.stringify(value, null, 2)
        : typeof value === 'string'
          ? value
          : '';
    control = (
      <ExternalAwareMonaco
        id={id}
        text={text}
        language={language}
        height={kind === 'code' ? 180 : kind === 'expression' ? 40 : 100}
        ariaLabel={field}
        onText={(next) => {
          if (kind !== 'json') {
            set(next === '' ? undefined : next);
            return next;
          }
          if (next.trim() === '') {
            set(undefined);
            return '';
          }
          try {
            const parsed = JSON.parse(next) as unknown;
            set(parsed);
            return JSON.stringify(parsed, null, 2);
          } catch {
            // Keep typing: only JSON that parses reaches the draft (the editor marks the error).
            return null;
          }
        }}
      />
    );
  } else if (kind === 'enum') {
    control = (
      <select
        id={id}
        value={value === undefined ? '' : asText(value)}
        onChange={(event) => set(event.target.value === '' ? undefined : event.target.value)}
      >
        <option value="">{schema.default === undefined ? '—' : `default (${asText(schema.default)})`}</option>
        {(schema.enum ?? []).map((option) => (
          <option key={asText(option)} value={asText(option)}>
            {asText(option)}
          </option>
        ))}
      </select>
    );
  } else if (kind === 'number') {
    control = (
      <input
        id={id}
        type="number"
        value={typeof value === 'number' ? value : ''}
        placeholder={placeholder}
        min={schema.minimum}
        max={schema.maximum}
        onChange={(event) => set(event.target.value === '' ? undefined : Number(event.target.value))}
      />
    );
  } else if (kind === 'boolean') {
    control = (
      <input id={id} type="checkbox" checked={value === true} onChange={(event) => set(event.target.checked)} />
    );
  } else if (kind === 'markdown') {
    control = (
      <textarea
        id={id}
        rows={3}
        value={typeof value === 'string' ? value : ''}
        placeholder={placeholder}
        onChange={(event) => set(event.target.value === '' ? undefined : event.target.value)}
      />
    );
  } else {
    control = (
      <input
        id={id}
        value={typeof value === 'string' ? value : ''}
        placeholder={placeholder || (schema.format === 'date-time' ? '2026-12-01T09:00:00Z' : '')}
        onChange={(event) => set(event.target.value === '' ? undefined : event.target.value)}
      />
    );
  }
  return (
    <div className={`field ${problems.length > 0 ? 'invalid' : ''}`} data-testid={`field-${field}`}>
      <label htmlFor={id}>
        {field}
        {required && (
          <span className="required" title="required">
            {' '}
            *
          </span>
        )}
      </label>
      {control}
      {schema.description && <p className="help">{schema.description}</p>}
      {problems.map((problem) => (
        <p key={problem.message} className="field-error">
          {problem.message.replace(/^node "[^"]+" \([^)]+\) config\.[^:]+: /, '')}
        </p>
      ))}
    </div>
  );
}

/**
 * Monaco is uncontrolled: it is remounted only when the value changes from outside (undo, restore),
 * recognised as a value other than the last one this field stored.
 */
function ExternalAwareMonaco(props: {
  id: string;
  text: string;
  language: MonacoLanguage;
  height: number;
  ariaLabel: string;
  /** Stores the typed text; returns the text form of what was stored, or null when nothing was. */
  onText: (text: string) => string | null;
}) {
  const [stored, setStored] = useState(props.text);
  const [generation, setGeneration] = useState(0);
  if (props.text !== stored) {
    setStored(props.text);
    setGeneration(generation + 1);
  }
  return (
    <Suspense
      fallback={
        <div className="monaco-loading" style={{ height: props.height }}>
          Loading editor…
        </div>
      }
    >
      <MonacoField
        key={generation}
        id={props.id}
        language={props.language}
        defaultValue={props.text}
        height={props.height}
        ariaLabel={props.ariaLabel}
        onChange={(text) => {
          const now = props.onText(text);
          if (now !== null) setStored(now);
        }}
      />
    </Suspense>
  );
}

const RETRY_FIELDS: { key: keyof RetryPolicy; label: string; step?: number }[] = [
  { key: 'maxAttempts', label: 'Max attempts' },
  { key: 'initialIntervalMs', label: 'Initial interval (ms)' },
  { key: 'backoffCoefficient', label: 'Backoff coefficient', step: 0.1 },
  { key: 'maxIntervalMs', label: 'Max interval (ms)' },
  { key: 'jitter', label: 'Jitter (0–1)', step: 0.05 },
];

function RetryEditor({ node, type }: { node: WorkflowNode; type: NodeType }) {
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

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
