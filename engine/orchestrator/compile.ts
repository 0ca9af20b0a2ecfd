// A workflow version compiled against the node registry: node definitions resolved for the
// pinned typeVersions, configs parsed (defaults applied), retry policies merged, edges indexed.
import type { Workflow, WorkflowEdge, WorkflowNode, WorkflowVersion } from '../model/workflow.js';
import type { NodeRegistry, RegisteredNode } from '../registry/index.js';
import { DEFAULT_START_TO_CLOSE_MS, OUTPUT_LIMIT, type RetryPolicy } from '../sdk/index.js';
import { validateWorkflow, WorkflowInvalidError } from '../validate/index.js';

export interface CompiledNode {
  node: WorkflowNode;
  definition: RegisteredNode;
  config: unknown;
  retry: RetryPolicy;
  /** Start-to-close limit of one execution, enforced by the engine. */
  timeoutMs: number;
  /** Largest output (JSON bytes) one execution may produce. */
  maxOutputBytes: number;
  incoming: WorkflowEdge[];
  outgoing: WorkflowEdge[];
  hasErrorEdge: boolean;
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
    // Validation guarantees the definition exists and the config parses.
    const definition = registry.get(node.type, node.typeVersion) as RegisteredNode;
    const config = definition.config.parse(node.config);
    nodes.set(node.id, {
      node,
      definition,
      config,
      retry: { ...definition.retry, ...node.retry },
      timeoutMs: node.timeoutMs ?? definition.startToCloseMs?.(config) ?? DEFAULT_START_TO_CLOSE_MS,
      maxOutputBytes: node.maxOutputBytes ?? OUTPUT_LIMIT.defaultBytes,
      incoming: [],
      outgoing: [],
      hasErrorEdge: false,
    });
  }
  for (const edge of graph.edges) {
    const source = nodes.get(edge.source);
    nodes.get(edge.target)?.incoming.push(edge);
    source?.outgoing.push(edge);
    if (source && edge.sourceHandle === 'error') source.hasErrorEdge = true;
  }
  const manualTrigger = graph.nodes.find((node) => node.type === 'trigger.manual')?.id ?? null;
  return { workflowId: version.workflowId, version: version.version, graph, nodes, manualTrigger };
}
