// What a fork inherits from its origin run, decided before anything is written: the nodes that
// completed by the origin's `seq` (inclusive), checked against the version the fork runs on, with
// edited outputs, and minus everything downstream of an edit (which must run again).
import type { JournalEvent } from '../journal/events.js';
import { foldEvents, type ActivationState } from '../journal/state.js';
import { canonicalJson } from '../model/canonical-json.js';
import { describeDepthExcess, jsonDepthExcess } from '../model/json-limits.js';
import type { CompiledWorkflow } from '../orchestrator/compile.js';
import { EngineError } from './errors.js';

export interface Inherited {
  activationId: string;
  nodeId: string;
  port: string | null;
  output: unknown;
  edited: boolean;
  /** Where the origin completed it: the fork inherits in the same order ("first input wins" holds). */
  resolvedSeq: number;
}

/** Which version a fork runs on: the origin's, the workflow's latest, or a number. */
export type ForkTarget = 'same' | 'latest' | number;

/** The origin's activations completed at `seq`; refuses a seq outside the journal. */
export function completedAt(runId: string, events: readonly JournalEvent[], seq: number): ActivationState[] {
  const last = events.at(-1)?.seq ?? 0;
  if (!Number.isInteger(seq) || seq < 1 || seq > last)
    throw new EngineError(`run ${runId} has steps 1…${last}; there is no step ${seq} to fork from`, 'invalid');
  const state = foldEvents(
    runId,
    events.filter((event) => event.seq <= seq),
  );
  return [...state.activations.values()].filter((activation) => activation.status === 'completed');
}

/**
 * The activations the fork inherits, keyed by activation id. Refused, naming them: nodes the
 * target version lacks, and edits of nodes that had not completed by `seq`.
 */
export function planInheritance(
  origin: { runId: string; seq: number },
  completed: readonly ActivationState[],
  workflow: CompiledWorkflow,
  setOutput: Readonly<Record<string, unknown>>,
): Map<string, Inherited> {
  const completedNodes = new Set(completed.map((activation) => activation.nodeId));
  const notCompleted = Object.keys(setOutput).filter((nodeId) => !completedNodes.has(nodeId));
  if (notCompleted.length > 0)
    throw new EngineError(
      `cannot set the output of ${names(notCompleted)}: not completed by step ${origin.seq} of run ${origin.runId}`,
      'invalid',
    );
  const missing = [...completedNodes].filter((nodeId) => !workflow.nodes.has(nodeId));
  if (missing.length > 0)
    throw new EngineError(
      `version ${workflow.version} of "${workflow.workflowId}" has no ${names(missing)}, completed by step ${origin.seq} of run ${origin.runId}; fork on the run's own version`,
      'invalid',
    );
  for (const [nodeId, output] of Object.entries(setOutput)) {
    const deep = jsonDepthExcess(output);
    if (deep) throw new EngineError(describeDepthExcess(`the output of "${nodeId}"`, 'output', deep), 'invalid');
  }
  // An output "edited" to what it already was is no edit: what is downstream of it is inherited,
  // not paid for again (a dialog that sends every output it showed must not cost a re-run).
  const latest = new Map(completed.map((activation) => [activation.nodeId, activation.output]));
  const edits = Object.keys(setOutput).filter(
    (nodeId) => canonicalJson(normaliseJson(setOutput[nodeId])) !== canonicalJson(latest.get(nodeId)),
  );
  const rerun = downstreamOf(workflow, edits);
  const inherited = new Map<string, Inherited>();
  for (const activation of completed) {
    if (rerun.has(activation.nodeId)) continue;
    const edited = edits.includes(activation.nodeId);
    inherited.set(activation.activationId, {
      activationId: activation.activationId,
      nodeId: activation.nodeId,
      port: activation.port,
      output: edited ? normaliseJson(setOutput[activation.nodeId]) : activation.output,
      edited,
      resolvedSeq: activation.resolvedSeq ?? 0,
    });
  }
  return inherited;
}

/** Every node reachable from `nodeIds` along edges (not the nodes themselves, unless in a cycle). */
function downstreamOf(workflow: CompiledWorkflow, nodeIds: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = nodeIds.flatMap((id) => workflow.nodes.get(id)?.outgoing.map((edge) => edge.target) ?? []);
  for (let nodeId = queue.shift(); nodeId !== undefined; nodeId = queue.shift()) {
    if (seen.has(nodeId)) continue;
    seen.add(nodeId);
    queue.push(...(workflow.nodes.get(nodeId)?.outgoing.map((edge) => edge.target) ?? []));
  }
  return seen;
}

function names(nodeIds: readonly string[]): string {
  return `${nodeIds.length === 1 ? 'node' : 'nodes'} ${nodeIds.map((id) => `"${id}"`).join(', ')}`;
}

function normaliseJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
}
