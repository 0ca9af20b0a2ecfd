// The inspector's field widgets, chosen by a config field's JSON Schema (type, format, enum).
// A new widget is one entry in FIELD_WIDGETS; the first entry that accepts a schema renders it.
import type { ComponentType } from 'react';
import { AuthWidget } from './AuthWidget.js';
import type { CheckMode } from './code-checking.js';
import { MonacoText } from './MonacoText.js';
import { useSandboxDeclarations } from './useSandboxDeclarations.js';

/** The part of a config property's JSON Schema the inspector reads. */
export interface FieldSchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
}

export interface FieldWidgetProps {
  /** The control's id, which the field's label points at. */
  id: string;
  /** The node whose config this is (the code editor types `input` from its last run). */
  nodeId: string;
  field: string;
  schema: FieldSchema;
  value: unknown;
  /** Stores a value; `undefined` removes the field so that the type's default applies. */
  set: (value: unknown) => void;
  /** "default: …" when the schema has a default, else empty. */
  placeholder: string;
}

export interface FieldWidget {
  name: string;
  accepts: (schema: FieldSchema) => boolean;
  Component: ComponentType<FieldWidgetProps>;
}

const typeOf = (schema: FieldSchema) => (Array.isArray(schema.type) ? schema.type[0] : schema.type);
const isString = (format?: string) => (schema: FieldSchema) =>
  typeOf(schema) === 'string' && (format === undefined || schema.format === format);
const textOf = (value: unknown) => (typeof value === 'string' ? value : '');
const orDefault = (text: string) => (text === '' ? undefined : text);

/** JavaScript in Monaco (code and expressions), stored as typed, checked against the sandbox's globals. */
function scriptWidget(height: number, check: CheckMode): ComponentType<FieldWidgetProps> {
  return function ScriptWidget({ id, nodeId, field, value, set }: FieldWidgetProps) {
    const declarations = useSandboxDeclarations(nodeId);
    return (
      <MonacoText
        id={id}
        text={textOf(value)}
        language="javascript"
        declarations={declarations}
        check={check}
        height={height}
        ariaLabel={field}
        onText={(next) => {
          set(orDefault(next));
          return next;
        }}
      />
    );
  };
}

/** A one-line text input; `example` shows when there is no default to show. */
function textWidget(example = ''): ComponentType<FieldWidgetProps> {
  return function TextWidget({ id, value, set, placeholder }: FieldWidgetProps) {
    return (
      <input
        id={id}
        value={textOf(value)}
        placeholder={placeholder || example}
        onChange={(event) => set(orDefault(event.target.value))}
      />
    );
  };
}

function EnumWidget({ id, schema, value, set }: FieldWidgetProps) {
  return (
    <select
      id={id}
      value={value === undefined ? '' : asText(value)}
      onChange={(event) => set(orDefault(event.target.value))}
    >
      <option value="">{schema.default === undefined ? '—' : `default (${asText(schema.default)})`}</option>
      {(schema.enum ?? []).map((option) => (
        <option key={asText(option)} value={asText(option)}>
          {asText(option)}
        </option>
      ))}
    </select>
  );
}

function MarkdownWidget({ id, value, set, placeholder }: FieldWidgetProps) {
  return (
    <textarea
      id={id}
      rows={3}
      value={textOf(value)}
      placeholder={placeholder}
      onChange={(event) => set(orDefault(event.target.value))}
    />
  );
}

function NumberWidget({ id, schema, value, set, placeholder }: FieldWidgetProps) {
  return (
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
}

function BooleanWidget({ id, value, set }: FieldWidgetProps) {
  return <input id={id} type="checkbox" checked={value === true} onChange={(event) => set(event.target.checked)} />;
}

/** Objects, arrays and untyped fields as JSON in Monaco; only JSON that parses reaches the draft. */
function JsonWidget({ id, field, value, set }: FieldWidgetProps) {
  return (
    <MonacoText
      id={id}
      text={value === undefined ? '' : JSON.stringify(value, null, 2)}
      language="json"
      height={100}
      ariaLabel={field}
      onText={(next) => {
        if (next.trim() === '') {
          set(undefined);
          return '';
        }
        try {
          const parsed = JSON.parse(next) as unknown;
          set(parsed);
          return JSON.stringify(parsed, null, 2);
        } catch {
          // Keep typing: Monaco marks the syntax error; the draft keeps the last valid value.
          return null;
        }
      }}
    />
  );
}

// Specific before general: the first entry that accepts a schema renders it.
export const FIELD_WIDGETS: readonly FieldWidget[] = [
  { name: 'enum', accepts: (schema) => schema.enum !== undefined, Component: EnumWidget },
  { name: 'credential-auth', accepts: (schema) => schema.format === 'credential-auth', Component: AuthWidget },
  { name: 'code', accepts: isString('code'), Component: scriptWidget(180, 'function') },
  { name: 'expression', accepts: isString('expression'), Component: scriptWidget(40, 'expression') },
  { name: 'markdown', accepts: isString('markdown'), Component: MarkdownWidget },
  { name: 'date-time', accepts: isString('date-time'), Component: textWidget('2026-12-01T09:00:00Z') },
  { name: 'string', accepts: isString(), Component: textWidget() },
  {
    name: 'number',
    accepts: (schema) => typeOf(schema) === 'number' || typeOf(schema) === 'integer',
    Component: NumberWidget,
  },
  { name: 'boolean', accepts: (schema) => typeOf(schema) === 'boolean', Component: BooleanWidget },
  { name: 'json', accepts: () => true, Component: JsonWidget },
];

export function widgetFor(schema: FieldSchema): FieldWidget {
  return FIELD_WIDGETS.find((widget) => widget.accepts(schema)) ?? (FIELD_WIDGETS.at(-1) as FieldWidget);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
