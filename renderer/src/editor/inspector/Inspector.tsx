// The inspector (the default side panel): the selected node's config as a form generated from
// its type's JSON Schema (required fields, defaults, help text; a widget per field from
// field-widgets), the retry policy, name and notes. With nothing selected: the workflow itself.
import type { ReactNode } from 'react';
import { OUTPUT_LIMIT, type Problem, type WorkflowNode } from '../../../../engine/api/index.js';
import { Icon } from '../../ui/Icon.js';
import { useEditor, useEditorState } from '../editor-context.js';
import type { SidePanelProps } from '../side-panels.js';
import { ConfigField } from './ConfigField.js';
import type { FieldSchema } from './field-widgets.js';
import { RetryEditor } from './RetryEditor.js';

export function Inspector({ problems }: SidePanelProps) {
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
  /** Name and notes: an empty field removes the value; typing in one field is one undo step. */
  const setText = (field: 'name' | 'notes', text: string) =>
    store
      .getState()
      .apply(
        { type: 'update-node', nodeId: node.id, patch: { [field]: text === '' ? undefined : text } },
        { coalesce: `${node.id}.${field}` },
      );
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
          onChange={(event) => setText('name', event.target.value)}
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
      <NodeLimitField
        node={node}
        field="timeoutMs"
        label="Start-to-close limit"
        unit="ms"
        placeholder="the node type's default"
      >
        Past it, one execution is abandoned and fails as <code>engine.timeout</code> (retried by the policy).
      </NodeLimitField>
      <NodeLimitField
        node={node}
        field="maxOutputBytes"
        label="Output limit"
        unit="bytes"
        max={OUTPUT_LIMIT.maxBytes}
        placeholder={`${OUTPUT_LIMIT.defaultBytes} (1 MiB)`}
      >
        The most one execution may output (its JSON); over it the node fails as <code>node.output-too-large</code>, not
        retried. Up to {OUTPUT_LIMIT.maxBytes} (16 MiB).
      </NodeLimitField>
      <label className="field">
        <span>Notes</span>
        <textarea
          rows={3}
          value={node.notes ?? ''}
          aria-label="Notes"
          placeholder="Why this step exists, who owns it…"
          onChange={(event) => setText('notes', event.target.value)}
        />
      </label>
    </div>
  );
}

/** A numeric limit set on the workflow node itself (not its config); empty means the default. */
function NodeLimitField({
  node,
  field,
  label,
  unit,
  max,
  placeholder,
  children,
}: {
  node: WorkflowNode;
  field: 'timeoutMs' | 'maxOutputBytes';
  label: string;
  unit: string;
  max?: number;
  placeholder: string;
  children: ReactNode;
}) {
  const { store } = useEditor();
  return (
    <label className="field">
      <span>
        {label} ({unit})
      </span>
      <input
        type="number"
        min={1}
        max={max}
        value={node[field] ?? ''}
        placeholder={placeholder}
        aria-label={label}
        onChange={(event) =>
          store.getState().apply(
            {
              type: 'update-node',
              nodeId: node.id,
              patch: { [field]: event.target.value === '' ? undefined : Number(event.target.value) },
            },
            { coalesce: `${node.id}.${field}` },
          )
        }
      />
      <span className="help">{children}</span>
    </label>
  );
}
