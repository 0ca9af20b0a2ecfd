// A workflow version compiled against the node registry: node definitions resolved for the
// pinned typeVersions, configs parsed (defaults applied), retry policies merged, edges indexed.
import type { Workflow, WorkflowEdge, WorkflowNode, WorkflowVersion } from '../model/workflow.js';
import type { NodeRegistry, RegisteredNode } from '../registry/index.js';
import { DEFAULT_START_TO_CLOSE_MS, OUTPUT_LIMIT, type RetryPolicy } from '../sdk/index.js';
import type { TemplateField } from '../model/template.js';
import { UNDO_PORT } from '../model/ports.js';
import { templatesOf, validateWorkflow, WorkflowInvalidError } from '../validate/index.js';

export interface CompiledNode {
  node: WorkflowNode;
  definition: RegisteredNode;
  /**
   * The parsed config (defaults applied). With templates, it is what the file says when a
   * templated field does not parse yet (a number to come from `{{ }}`); the runtime evaluates the
   * templates and parses again for each activation.
   */
  config: unknown;
  /** The config's `{{ }}` fields, evaluated before each execution (runtime/expressions.ts). */
  templates: TemplateField[];
  retry: RetryPolicy;
  /** Start-to-close limit of one execution, enforced by the engine. */
  timeoutMs: number;
  /** Largest output (JSON bytes) one execution may produce. */
  maxOutputBytes: number;
  /** Edges of the normal flow (an `undo` edge is neither: it names a compensation). */
  incoming: WorkflowEdge[];
  outgoing: WorkflowEdge[];
  hasErrorEdge: boolean;
  /** The node that reverses this one (its `undo` edge's target); null when none. */
  undo: string | null;
  /** The node this one reverses: it runs only as that node's compensation. Null for a normal node. */
  compensates: string | null;
}

export interface CompiledWorkflow {
  workflowId: string;
  version: number;
  graph: Workflow;
  nodes: Map<string, CompiledNode>;
  /** The trigger.manual node: where manual runs start. */
  manualTrigger: string | null;
}

export function compileWorkflow(
  version: Pick<WorkflowVersion, 'workflowId' | 'version' | 'graph'>,
  registry: NodeRegistry,
): CompiledWorkflow {
  const result = validateWorkflow(version.graph, registry, { pinned: true });
  if (!result.ok)
    throw new WorkflowInvalidError(result.problems, `workflow "${version.workflowId}" v${version.version}`);
  const graph = result.workflow;
  const nodes = new Map<string, CompiledNode>();
  for (const node of graph.nodes) {
    // Validation guarantees the definition exists and the config parses, templated fields aside.
    const definition = registry.get(node.type, node.typeVersion) as RegisteredNode;
    const parsed = definition.config.safeParse(node.config);
    const config: unknown = parsed.success ? parsed.data : node.config;
    // A limit computed from a field still to be evaluated is unknown: the engine's default applies.
    const limitMs = parsed.success ? definition.startToCloseMs?.(config) : undefined;
    nodes.set(node.id, {
      node,
      definition,
      config,
      templates: templatesOf(definition, node.config).fields,
      retry: { ...definition.retry, ...node.retry },
      timeoutMs: node.timeoutMs ?? limitMs ?? DEFAULT_START_TO_CLOSE_MS,
      maxOutputBytes: node.maxOutputBytes ?? OUTPUT_LIMIT.defaultBytes,
      incoming: [],
      outgoing: [],
      hasErrorEdge: false,
      undo: null,
      compensates: null,
    });
  }
  for (const edge of graph.edges) {
    const source = nodes.get(edge.source);
    if (edge.sourceHandle === UNDO_PORT && source?.definition.ports.undo === true) {
      // Validation allows one undo edge per node, into a node that has no other edges.
      source.undo = edge.target;
      const target = nodes.get(edge.target);
      if (target) target.compensates = edge.source;
      continue;
    }
    nodes.get(edge.target)?.incoming.push(edge);
    source?.outgoing.push(edge);
    if (source && edge.sourceHandle === 'error') source.hasErrorEdge = true;
  }
  const manualTrigger = graph.nodes.find((node) => node.type === 'trigger.manual')?.id ?? null;
  return { workflowId: version.workflowId, version: version.version, graph, nodes, manualTrigger };
}
