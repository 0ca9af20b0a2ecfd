// Workflow validation: structure, node types and their config schemas, ports, cycles, reachability.
// Every problem names the node / edge / field and what is wrong. Used by the store, runtime and CLI.
import type { z } from 'zod';
import { issueMessage as readableMessage, READABLE_ISSUES } from '../model/issues.js';
import { workflowSchema, type Workflow } from '../model/workflow.js';
import type { NodeRegistry } from '../registry/index.js';
import type { ConfigProblem } from '../sdk/index.js';
import { findCycle, reachableFrom } from '../model/graph.js';
import { outputPorts, UNDO_PORT } from '../model/ports.js';
import {
  configTemplates,
  expressionsOf,
  fieldName,
  type TemplateField,
  type TemplateProblem,
} from '../model/template.js';
import type { RegisteredNode } from '../registry/index.js';

export type ProblemCode =
  | 'workflow.json'
  | 'workflow.format'
  | 'workflow.reserved-key'
  | 'node.duplicate-id'
  | 'edge.duplicate-id'
  | 'node.unknown-type'
  | 'node.unknown-type-version'
  | 'node.config'
  | 'node.expression'
  | 'edge.missing-node'
  | 'edge.unknown-port'
  | 'edge.duplicate'
  | 'graph.cycle'
  | 'graph.no-trigger'
  | 'graph.many-manual-triggers'
  | 'node.unreachable'
  | 'node.inputs-unconnected'
  | 'edge.undo';

export interface Problem {
  severity: 'error' | 'warning';
  code: ProblemCode;
  message: string;
  nodeId?: string;
  edgeId?: string;
  field?: string;
  /** 1-based position in the field's text (a `{{ }}` expression's syntax error). */
  column?: number;
}

export type ValidationResult =
  { ok: true; workflow: Workflow; problems: Problem[] } | { ok: false; workflow: Workflow | null; problems: Problem[] };

export class WorkflowInvalidError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[], subject = 'workflow') {
    const errors = problems.filter((problem) => problem.severity === 'error');
    super(`${subject} is invalid:\n${errors.map((problem) => `  - ${problem.message}`).join('\n')}`);
    this.name = 'WorkflowInvalidError';
    this.problems = problems;
  }
}

/** Parses workflow file text; JSON syntax errors are reported as problems, not thrown. */
export function validateWorkflowText(text: string, registry: NodeRegistry): ValidationResult {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, workflow: null, problems: [problem('error', 'workflow.json', `not valid JSON: ${message}`)] };
  }
  return validateWorkflow(value, registry);
}

export interface ValidateOptions {
  /**
   * The graph is an immutable version runs are pinned to, not one being saved: rules for new
   * versions only (`ConfigProblem.newVersionsOnly`) are warnings, so those runs can finish.
   */
  pinned?: boolean;
}

export function validateWorkflow(
  value: unknown,
  registry: NodeRegistry,
  options: ValidateOptions = {},
): ValidationResult {
  const reserved = reservedKeyProblems(value);
  if (reserved.length > 0) return { ok: false, workflow: null, problems: reserved };
  const parsed = workflowSchema.safeParse(value, READABLE_ISSUES);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => structuralProblem(issue, value));
    return { ok: false, workflow: null, problems };
  }
  const workflow = parsed.data;
  const problems: Problem[] = [];
  const nodeIds = new Set<string>();
  for (const node of workflow.nodes) {
    if (nodeIds.has(node.id))
      problems.push({
        ...problem('error', 'node.duplicate-id', `node id "${node.id}" is used twice`),
        nodeId: node.id,
      });
    nodeIds.add(node.id);
  }
  const edgeIds = new Set<string>();
  for (const edge of workflow.edges) {
    if (edgeIds.has(edge.id))
      problems.push({
        ...problem('error', 'edge.duplicate-id', `edge id "${edge.id}" is used twice`),
        edgeId: edge.id,
      });
    edgeIds.add(edge.id);
  }

  const nodesById = new Map(workflow.nodes.map((node) => [node.id, node]));
  for (const node of workflow.nodes) problems.push(...checkNode(node, registry, options));
  problems.push(...checkEdges(workflow, registry));
  problems.push(...checkUndoEdges(workflow, registry));

  const cycle = findCycle(workflow);
  if (cycle)
    problems.push({
      ...problem('error', 'graph.cycle', `cycle: ${cycle.join(' → ')} (this format allows no cycles)`),
      nodeId: cycle[0],
    });

  const triggers = workflow.nodes.filter((node) => registry.get(node.type, node.typeVersion)?.role === 'trigger');
  if (workflow.nodes.length > 0 && triggers.length === 0)
    problems.push(problem('error', 'graph.no-trigger', 'the workflow has no trigger node (add a "trigger.manual")'));
  const manual = triggers.filter((node) => node.type === 'trigger.manual');
  if (manual.length > 1)
    problems.push(
      problem(
        'error',
        'graph.many-manual-triggers',
        `more than one trigger.manual node (${manual.map((node) => `"${node.id}"`).join(', ')}): keep one`,
      ),
    );
  if (triggers.length > 0) {
    const reachable = reachableFrom(
      workflow,
      triggers.map((node) => node.id),
    );
    for (const node of workflow.nodes) {
      if (!reachable.has(node.id) && nodesById.has(node.id))
        problems.push({
          ...problem('warning', 'node.unreachable', `node "${node.id}" is not reachable from a trigger; it never runs`),
          nodeId: node.id,
        });
    }
  }
  const ok = !problems.some((item) => item.severity === 'error');
  return ok ? { ok, workflow, problems } : { ok, workflow, problems };
}

function checkNode(node: Workflow['nodes'][number], registry: NodeRegistry, options: ValidateOptions): Problem[] {
  const definition = registry.get(node.type, node.typeVersion);
  if (!definition) {
    const versions = registry.versionsOf(node.type);
    return versions.length === 0
      ? [
          {
            ...problem('error', 'node.unknown-type', `node "${node.id}": unknown node type "${node.type}"`),
            nodeId: node.id,
            field: 'type',
          },
        ]
      : [
          {
            ...problem(
              'error',
              'node.unknown-type-version',
              `node "${node.id}": ${node.type} has no typeVersion ${node.typeVersion} (known: ${versions.join(', ')})`,
            ),
            nodeId: node.id,
            field: 'typeVersion',
          },
        ];
  }
  // A templated field's value is known at run time only: its schema and checks apply then
  // (runtime/expressions.ts), after evaluation. Everything else is checked now.
  const templates = templatesOf(definition, node.config);
  const onTemplate = templatedField(templates.fields);
  const problems = templateProblems(node, templates, registry);
  const parsed = definition.config.safeParse(node.config, READABLE_ISSUES);
  if (!parsed.success) {
    const issues = parsed.error.issues.filter((issue) => !onTemplate(issue.path.map(String).join('.')));
    return [
      ...problems,
      ...issues.map((issue) => {
        const field = fieldPath(issue);
        return {
          ...problem(
            'error',
            'node.config',
            `node "${node.id}" (${node.type}) config.${field}: ${issueMessage(issue)}`,
          ),
          nodeId: node.id,
          field,
        };
      }),
    ];
  }
  let checked: ConfigProblem[];
  try {
    checked = definition.check?.(parsed.data) ?? [];
  } catch (error) {
    // A check may read a templated field as what it will hold (a URL, a duration): run time tells.
    if (templates.fields.length === 0) throw error;
    checked = [];
  }
  return [
    ...problems,
    ...checked
      .filter((item) => !onTemplate(item.field))
      .map((item) => ({
        ...problem(
          options.pinned && item.newVersionsOnly ? 'warning' : 'error',
          'node.config',
          `node "${node.id}" (${node.type}) config.${item.field}: ${item.message}`,
        ),
        nodeId: node.id,
        field: item.field,
      })),
  ];
}

/**
 * The `{{ }}` templates of a node's config. Triggers have none: the engine reads their config
 * before any run exists (a webhook's path, a schedule), so there is no input to evaluate against.
 */
export function templatesOf(
  definition: RegisteredNode,
  config: unknown,
): { fields: TemplateField[]; problems: TemplateProblem[] } {
  return definition.role === 'trigger' ? { fields: [], problems: [] } : configTemplates(definition.config, config);
}

/** Whether a dotted field name is a templated field or inside one. */
function templatedField(fields: readonly TemplateField[]): (field: string) => boolean {
  const names = fields.map((field) => fieldName(field.path));
  return (field) => names.some((name) => field === name || field.startsWith(`${name}.`));
}

/** Unclosed or empty `{{`, and expressions that do not compile, with the field and the column. */
function templateProblems(
  node: Workflow['nodes'][number],
  templates: { fields: TemplateField[]; problems: TemplateProblem[] },
  registry: NodeRegistry,
): Problem[] {
  const at = (path: (string | number)[], column: number, message: string): Problem => {
    const field = fieldName(path);
    return {
      ...problem(
        'error',
        'node.expression',
        `node "${node.id}" (${node.type}) config.${field}, column ${column}: ${message}`,
      ),
      nodeId: node.id,
      field,
      column,
    };
  };
  const problems = templates.problems.map(({ path, error }) => at(path, error.column, error.message));
  const syntax = registry.expressionSyntax;
  if (!syntax) return problems;
  for (const field of templates.fields)
    for (const expression of expressionsOf(field.parts)) {
      const error = syntax(expression.source);
      if (error)
        problems.push(at(field.path, expression.column + error.offset, `syntax error in {{ }}: ${error.message}`));
    }
  return problems;
}

function checkEdges(workflow: Workflow, registry: NodeRegistry): Problem[] {
  const problems: Problem[] = [];
  const nodesById = new Map(workflow.nodes.map((node) => [node.id, node]));
  const seen = new Set<string>();
  for (const edge of workflow.edges) {
    const at = (code: ProblemCode, message: string): Problem => ({
      ...problem('error', code, `edge "${edge.id}": ${message}`),
      edgeId: edge.id,
    });
    const source = nodesById.get(edge.source);
    const target = nodesById.get(edge.target);
    if (!source) problems.push(at('edge.missing-node', `source node "${edge.source}" does not exist`));
    if (!target) problems.push(at('edge.missing-node', `target node "${edge.target}" does not exist`));
    const sourceType = source && registry.get(source.type, source.typeVersion);
    const targetType = target && registry.get(target.type, target.typeVersion);
    const sourcePorts = sourceType && source ? outputPorts(sourceType.ports, source.config) : [];
    if (sourceType && !sourcePorts.includes(edge.sourceHandle) && edge.sourceHandle === UNDO_PORT)
      problems.push(
        at(
          'edge.undo',
          `node "${edge.source}" (${sourceType.type}) has no undo port: only nodes with side effects can be compensated (this one is ${sourceType.role === 'trigger' ? 'a trigger' : 'pure'})`,
        ),
      );
    else if (sourceType && !sourcePorts.includes(edge.sourceHandle))
      problems.push(
        at(
          'edge.unknown-port',
          `node "${edge.source}" (${sourceType.type}) has no output port "${edge.sourceHandle}" (ports: ${listPorts(sourcePorts)})`,
        ),
      );
    if (targetType && !targetType.ports.in.includes(edge.targetHandle))
      problems.push(
        at(
          'edge.unknown-port',
          `node "${edge.target}" (${targetType.type}) has no input port "${edge.targetHandle}" (ports: ${listPorts(targetType.ports.in)})`,
        ),
      );
    const key = `${edge.source}\0${edge.sourceHandle}\0${edge.target}\0${edge.targetHandle}`;
    if (seen.has(key))
      problems.push({
        ...at('edge.duplicate', `connects ${edge.source}.${edge.sourceHandle} → ${edge.target} a second time`),
        severity: 'warning',
      });
    seen.add(key);
  }
  return problems;
}

/**
 * Saga compensation: an `undo` edge names the node that reverses its source. That node runs only
 * as the compensation (with the source's output as input), so it takes the edge into `in` and has
 * no other edges; and a node is undone by one node.
 */
function checkUndoEdges(workflow: Workflow, registry: NodeRegistry): Problem[] {
  const problems: Problem[] = [];
  const nodesById = new Map(workflow.nodes.map((node) => [node.id, node]));
  const undoEdges = workflow.edges.filter((edge) => {
    const source = nodesById.get(edge.source);
    return edge.sourceHandle === UNDO_PORT && source && registry.get(source.type, source.typeVersion)?.ports.undo;
  });
  const at = (edgeId: string, nodeId: string, message: string): Problem => ({
    ...problem('error', 'edge.undo', message),
    edgeId,
    nodeId,
  });
  const undoneBy = new Map<string, string>();
  for (const edge of undoEdges) {
    const target = nodesById.get(edge.target);
    if (!target) continue;
    const earlier = undoneBy.get(edge.source);
    if (earlier !== undefined)
      problems.push(
        at(
          edge.id,
          edge.source,
          `node "${edge.source}" has more than one undo edge ("${earlier}" and "${edge.target}"): one node undoes it`,
        ),
      );
    undoneBy.set(edge.source, edge.target);
    if (edge.target === edge.source)
      problems.push(
        at(edge.id, edge.source, `node "${edge.source}" cannot undo itself: draw its undo edge to another node`),
      );
    if (registry.get(target.type, target.typeVersion)?.role === 'trigger')
      problems.push(
        at(
          edge.id,
          target.id,
          `the undo edge of "${edge.source}" goes into trigger "${target.id}": a compensation cannot be a trigger`,
        ),
      );
    if (edge.targetHandle !== 'in')
      problems.push(
        at(
          edge.id,
          target.id,
          `the undo edge of "${edge.source}" must go into the "in" port of "${target.id}", not "${edge.targetHandle}"`,
        ),
      );
    const others = workflow.edges.filter((other) => other !== edge && other.target === target.id);
    if (others.length > 0)
      problems.push(
        at(
          edge.id,
          target.id,
          `node "${target.id}" undoes "${edge.source}" and runs only as its compensation: it cannot have other incoming edges (from ${others.map((other) => `"${other.source}"`).join(', ')})`,
        ),
      );
    const outgoing = workflow.edges.filter((other) => other.source === target.id);
    if (outgoing.length > 0)
      problems.push(
        at(
          edge.id,
          target.id,
          `node "${target.id}" undoes "${edge.source}": a compensation has no outgoing edges (it leads to ${outgoing.map((other) => `"${other.target}"`).join(', ')})`,
        ),
      );
  }
  return problems;
}

function listPorts(ports: readonly string[]): string {
  return ports.length === 0 ? 'none' : ports.map((port) => `"${port}"`).join(', ');
}

function problem(severity: Problem['severity'], code: ProblemCode, message: string): Problem {
  return { severity, code, message };
}

function fieldPath(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(...issue.keys);
  return path.join('.') || '(config)';
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return 'unknown field';
  return readableMessage(issue);
}

/**
 * A `__proto__` key anywhere in the file, refused by name. JavaScript reads it as an object's
 * prototype, not as data: zod's records, object spreads in the editor and `obj[key] = …` copies
 * drop it silently, so the workflow that runs would not be the file that was saved. Data (run
 * input, outputs) may hold such a key; a workflow file may not.
 */
function reservedKeyProblems(value: unknown): Problem[] {
  interface Step {
    value: unknown;
    key: string | number;
    parent: Step | null;
  }
  const pathOf = (step: Step): (string | number)[] => {
    const path: (string | number)[] = [];
    for (let at: Step | null = step; at?.parent; at = at.parent) path.push(at.key);
    return path.reverse();
  };
  const problems: Problem[] = [];
  // Iterative, with parent links: a file nested thousands of levels deep gets its answer, not a
  // stack overflow or a path copied at every level.
  const pending: Step[] = [{ value, key: '', parent: null }];
  while (pending.length > 0 && problems.length < 10) {
    const step = pending.pop() as Step;
    if (step.value === null || typeof step.value !== 'object') continue;
    const isArray = Array.isArray(step.value);
    for (const [key, child] of Object.entries(step.value)) {
      const next: Step = { value: child, key: isArray ? Number(key) : key, parent: step };
      if (key !== '__proto__') {
        pending.push(next);
        continue;
      }
      const at = where(pathOf(next), value);
      problems.push({
        severity: 'error',
        code: 'workflow.reserved-key',
        message: `${at.where}: the key "__proto__" is not allowed in a workflow file (JavaScript reads it as the object's prototype, so it would be lost): rename it`,
        ...(at.nodeId && { nodeId: at.nodeId }),
        ...(at.edgeId && { edgeId: at.edgeId }),
      });
    }
  }
  return problems;
}

/** Names the node or edge an issue in the file structure is about, e.g. `node "fetch" (nodes[2]).position`. */
function structuralProblem(issue: z.core.$ZodIssue, value: unknown): Problem {
  const { where: at, nodeId, edgeId } = where(issue.path, value);
  const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.map((key) => `"${key}"`).join(', ')}` : '';
  const message =
    issue.path[0] === 'format' ? `format must be "stepwise/workflow@1"` : `${at}: ${issueMessage(issue)}${keys}`;
  return { severity: 'error', code: 'workflow.format', message, ...(nodeId && { nodeId }), ...(edgeId && { edgeId }) };
}

function where(
  path: readonly PropertyKey[],
  value: unknown,
): { where: string; nodeId?: string | undefined; edgeId?: string | undefined } {
  const [collection, index, ...rest] = path;
  if ((collection !== 'nodes' && collection !== 'edges') || typeof index !== 'number')
    return { where: path.map(String).join('.') || '(workflow)' };
  const items = (value as Record<string, unknown> | null)?.[collection];
  const item = Array.isArray(items) ? (items[index] as Record<string, unknown> | undefined) : undefined;
  const id = typeof item?.id === 'string' ? item.id : undefined;
  const kind = collection === 'nodes' ? 'node' : 'edge';
  const at = `${id ? `${kind} "${id}" ` : ''}(${collection}[${index}])${rest.length ? '.' + rest.map(String).join('.') : ''}`;
  return collection === 'nodes' ? { where: at, nodeId: id } : { where: at, edgeId: id };
}
