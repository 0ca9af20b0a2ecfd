// One config field of a node: label (starred when required), the widget its schema calls for,
// help text and the validator's errors for it.
import { LITERAL_FORMATS, parseTemplate, type Problem, type WorkflowNode } from '../../../../engine/api/index.js';
import { useEditor } from '../editor-context.js';
import { widgetFor, type FieldSchema } from './field-widgets.js';
import { TemplatePreview } from './TemplatePreview.js';

export function ConfigField(props: {
  node: WorkflowNode;
  field: string;
  schema: FieldSchema;
  required: boolean;
  problems: Problem[];
}) {
  const { node, field, schema, required, problems } = props;
  const { store } = useEditor();
  const id = `${node.id}-${field}`;
  const Widget = widgetFor(schema).Component;
  const value = node.config[field];
  // A string with `{{ }}` (code and credential fields excepted: they are never templates).
  const template =
    typeof value === 'string' && !LITERAL_FORMATS.has(schema.format ?? '') && parseTemplate(value) !== null
      ? value
      : null;
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
      <Widget
        id={id}
        nodeId={node.id}
        field={field}
        schema={schema}
        value={value}
        placeholder={schema.default === undefined ? '' : `default: ${JSON.stringify(schema.default)}`}
        set={(value) =>
          store
            .getState()
            .apply({ type: 'set-config', nodeId: node.id, field, value }, { coalesce: `${node.id}.config.${field}` })
        }
      />
      {template !== null && <TemplatePreview template={template} />}
      {schema.description && <p className="help">{schema.description}</p>}
      {problems.map((problem) => (
        <p key={problem.message} className="field-error">
          {problem.message.replace(/^node "[^"]+" \([^)]+\) config\.[^:]+: /, '')}
        </p>
      ))}
    </div>
  );
}
