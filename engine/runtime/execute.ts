// Runs one node activation: builds its `ctx`, calls the executor, and turns whatever happens
// (a result, a wait, a thrown error, a broken promise) into a plain outcome to journal.
import type { NewEvent, NodeFailure, NodeNote } from '../journal/events.js';
import { idempotencyKeyOf } from '../journal/node-states.js';
import { describeIssues } from '../model/issues.js';
import { describeDepthExcess, jsonDepthExcess } from '../model/json-limits.js';
import { outputPorts, UNDO_PORT } from '../model/ports.js';
import { OUTPUT_TOO_LARGE, outputTooLargeMessage } from '../model/workflow.js';
import { ActivationCredentials, type CredentialReader } from './node-credentials.js';
import { ActivationNotes } from './node-notes.js';
import { nodeCache, type CacheStore } from './node-cache.js';
import { evaluateConfig, type RunInfo } from './expressions.js';
import type { CompiledNode } from '../orchestrator/compile.js';
import { waitRequestSchema } from '../waits/index.js';
import {
  NodeError,
  type Logger,
  type NodeCache,
  type NodeContext,
  type NodeResult,
  type Sandbox,
  type SandboxRequest,
  type WaitOutcome,
  type WaitRequest,
  type WorkflowPins,
} from '../sdk/index.js';

export type ExecutionOutcome = (
  | { kind: 'completed'; port: string | null; output: unknown }
  /** `config`: the config its `{{ }}` fields evaluated to, kept for `resume` (undefined: none). */
  | { kind: 'waiting'; wait: WaitRequest; config?: unknown }
  | { kind: 'failed'; error: NodeFailure }
) & {
  /** What the node noted (redacted, capped): journaled as `NodeNoted` just before the outcome. */
  notes?: readonly NodeNote[];
};

/** What one activation accumulates while it runs: the credentials it read and the notes it made. */
export interface ActivationScope {
  credentials: ActivationCredentials;
  notes: ActivationNotes;
}

export function activationScope(services: Pick<ExecutionServices, 'credentials' | 'now'>): ActivationScope {
  const credentials = new ActivationCredentials(services.credentials);
  return { credentials, notes: new ActivationNotes(services.now, () => credentials.used) };
}

/** The outcome with the notes made so far (none: unchanged). */
export function withNotes(outcome: ExecutionOutcome, notes: ActivationNotes): ExecutionOutcome {
  const noted = notes.drain();
  return noted.length === 0 ? outcome : { ...outcome, notes: noted };
}

/**
 * An activation's cancellation: a flag the sandbox asks (`SandboxRequest.cancelled`), and an
 * AbortSignal made only when a node reads `ctx.signal` — an AbortController per activation was a
 * few per cent of the engine thread on a chain of code nodes, and most nodes never look at it.
 */
export class Cancellation {
  #reason: Error | undefined;
  #controller: AbortController | undefined;
  readonly isCancelled = (): boolean => this.#reason !== undefined;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: Error): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export interface ActivationRef {
  runId: string;
  activationId: string;
  nodeId: string;
  attempt: number;
  input: unknown;
  /** The run, for the `run` of `{{ }}` expressions; required to execute a node that has some. */
  run?: RunInfo;
  /** The run was started in playback mode (`ctx.playback`). */
  playback?: boolean;
  /**
   * When the activation was scheduled (journaled): the time the sandbox helpers answer
   * (`$date.now()`), the same on every attempt and after a crash. Absent: the services' clock now.
   */
  scheduledAt?: number;
}

export interface ExecutionServices {
  sandbox: Sandbox;
  logger: Logger;
  now: () => number;
  credentials: CredentialReader;
  workflows: WorkflowPins;
  /** Where `ctx.cache` keeps its entries (the engine's store). */
  cache: CacheStore;
}

/** The events that journal an outcome: the node's notes (if any), then the outcome itself. */
export function outcomeEvents(ref: Omit<ActivationRef, 'input' | 'runId'>, outcome: ExecutionOutcome): NewEvent[] {
  const base = { activationId: ref.activationId, nodeId: ref.nodeId, attempt: ref.attempt };
  const notes: NewEvent[] =
    outcome.notes && outcome.notes.length > 0
      ? [{ ...base, type: 'NodeNoted', data: { notes: [...outcome.notes] } }]
      : [];
  return [...notes, outcomeEvent(ref, outcome)];
}

function outcomeEvent(ref: Omit<ActivationRef, 'input' | 'runId'>, outcome: ExecutionOutcome): NewEvent {
  const base = { activationId: ref.activationId, nodeId: ref.nodeId, attempt: ref.attempt };
  switch (outcome.kind) {
    case 'completed':
      return { ...base, type: 'NodeCompleted', data: { port: outcome.port, output: outcome.output } };
    case 'waiting':
      return {
        ...base,
        type: 'WaitCreated',
        data: { wait: outcome.wait, ...(outcome.config !== undefined && { config: outcome.config }) },
      };
    case 'failed':
      return { ...base, type: 'NodeFailed', data: { error: outcome.error } };
  }
}

export function contextFor(
  node: CompiledNode,
  activation: ActivationRef,
  services: ExecutionServices,
  cancellation: Cancellation,
  scope: ActivationScope = activationScope(services),
  config: unknown = node.config,
): NodeContext<unknown> {
  const { credentials, notes } = scope;
  // Made on first use, like `signal`: most nodes touch neither (a chain of code nodes is
  // allocation-bound).
  let log: Logger | undefined;
  let cache: NodeCache | undefined;
  return {
    runId: activation.runId,
    activationId: activation.activationId,
    nodeId: activation.nodeId,
    attempt: activation.attempt,
    idempotencyKey: idempotencyKeyOf(activation.runId, activation.activationId),
    input: activation.input,
    config,
    get signal() {
      return cancellation.signal;
    },
    get log() {
      return (log ??= notes.logger());
    },
    note: (note) => notes.add(note),
    sandbox: atTime(services.sandbox, activationTime(activation, services), cancellation),
    credentials,
    limits: { outputBytes: node.maxOutputBytes },
    workflows: services.workflows,
    get cache() {
      return (cache ??= nodeCache(
        services.cache,
        node.node.type,
        services.now,
        services.logger,
        () => credentials.used,
      ));
    },
    playback: activation.playback === true,
    now: services.now,
  };
}

export async function executeActivation(
  node: CompiledNode,
  activation: ActivationRef,
  services: ExecutionServices,
  cancellation: Cancellation,
  scope: ActivationScope = activationScope(services),
): Promise<ExecutionOutcome> {
  const { credentials, notes } = scope;
  try {
    const config =
      node.templates.length === 0
        ? node.config
        : await evaluateConfig(
            node,
            scopeOf(activation),
            atTime(services.sandbox, activationTime(activation, services), cancellation),
          );
    const result = await node.definition.execute(contextFor(node, activation, services, cancellation, scope, config));
    return withNotes(credentials.redact(withConfig(toOutcome(node, result), node, config)), notes);
  } catch (error) {
    // Notes made before the failure are kept: they are what explains it.
    return withNotes(credentials.redact({ kind: 'failed', error: toFailure(error) }), notes);
  }
}

function activationTime(activation: ActivationRef, services: ExecutionServices): number {
  return activation.scheduledAt ?? services.now();
}

/** The sandbox as this activation's code sees it: its requests carry the activation's time and
 * its cancellation. */
export function atTime(sandbox: Sandbox, now: number, cancellation?: Cancellation): Sandbox {
  const at = (request: SandboxRequest): SandboxRequest =>
    cancellation ? { ...request, now, cancelled: cancellation.isCancelled } : { ...request, now };
  return {
    evaluate: (request) => sandbox.evaluate(at(request)),
    ...(sandbox.evaluateNow && { evaluateNow: (request: SandboxRequest) => sandbox.evaluateNow?.(at(request)) }),
  };
}

function scopeOf(activation: ActivationRef): { input: unknown; run: RunInfo } {
  if (!activation.run) throw new Error(`node "${activation.nodeId}" has {{ }} expressions but no run was given`);
  return { input: activation.input, run: activation.run };
}

/** A wait keeps the evaluated config, so `resume` (synchronous, later) sees what `execute` saw. */
function withConfig(outcome: ExecutionOutcome, node: CompiledNode, config: unknown): ExecutionOutcome {
  return outcome.kind === 'waiting' && node.templates.length > 0 ? { ...outcome, config } : outcome;
}

/** Runs an `inline` node synchronously, inside the caller's transaction. */
export function executeInline(
  node: CompiledNode,
  activation: ActivationRef,
  services: ExecutionServices,
): ExecutionOutcome {
  const scope = activationScope(services);
  return withNotes(
    scope.credentials.redact(
      settleNow(node, 'execute', () =>
        node.definition.execute(contextFor(node, activation, services, new Cancellation(), scope)),
      ),
    ),
    scope.notes,
  );
}

/**
 * A node's completion now, when its definition is certain of it at once (`executeNow`: code the
 * sandbox answers directly), for the caller's transaction; undefined — also for any failure, which
 * `executeActivation` then meets the usual way — when it must be executed.
 */
export function completeNow(
  node: CompiledNode,
  activation: ActivationRef,
  services: ExecutionServices,
): ExecutionOutcome | undefined {
  const { definition } = node;
  if (!definition.executeNow || node.templates.length > 0) return undefined;
  const scope = activationScope(services);
  let result: NodeResult | undefined;
  try {
    result = definition.executeNow(contextFor(node, activation, services, new Cancellation(), scope));
  } catch {
    return undefined;
  }
  if (result === undefined) return undefined;
  const outcome = withNotes(scope.credentials.redact(toOutcome(node, result)), scope.notes);
  return outcome.kind === 'completed' ? outcome : undefined;
}

/**
 * Turns a finished wait into the node's result (pure: `resume` sees only input and config).
 * `config`: the one `execute` saw when its fields held `{{ }}` (journaled with the wait).
 */
export function resumeActivation(
  node: CompiledNode,
  activation: ActivationRef,
  services: ExecutionServices,
  outcome: WaitOutcome,
  config: unknown = node.config,
): ExecutionOutcome {
  const { definition } = node;
  if (!definition.resume)
    return {
      kind: 'failed',
      error: { message: `${node.node.type} cannot resume from a wait`, kind: 'engine.no-resume', retryable: false },
    };
  const resume = definition.resume.bind(definition);
  const scope = activationScope(services);
  return withNotes(
    scope.credentials.redact(
      withConfig(
        settleNow(node, 'resume', () =>
          resume(contextFor(node, activation, services, new Cancellation(), scope, config), outcome),
        ),
        node,
        config,
      ),
    ),
    scope.notes,
  );
}

/** Calls a node function that must answer at once, and settles its result or error. */
function settleNow(
  node: CompiledNode,
  what: 'execute' | 'resume',
  call: () => NodeResult | Promise<NodeResult>,
): ExecutionOutcome {
  try {
    const result = call();
    if (result instanceof Promise)
      return {
        kind: 'failed',
        error: {
          message: `${node.node.type} ${what} returned a promise where a synchronous result is required`,
          kind: 'engine.inline-async',
          retryable: false,
        },
      };
    return toOutcome(node, result);
  } catch (error) {
    return { kind: 'failed', error: toFailure(error) };
  }
}

function toOutcome(node: CompiledNode, result: NodeResult): ExecutionOutcome {
  if ('wait' in result) {
    // Journaled events are validated when read back: refuse a malformed wait now, by name.
    const wait = waitRequestSchema.safeParse(result.wait);
    return wait.success
      ? { kind: 'waiting', wait: wait.data }
      : {
          kind: 'failed',
          error: {
            message: `${node.node.type} asked for an invalid wait: ${describeIssues(wait.error, 'wait')}`,
            kind: 'engine.bad-wait',
            retryable: false,
          },
        };
  }
  // `undo` leads to the node's compensation, never to the normal flow.
  const ports = outputPorts(node.definition.ports, node.config).filter((port) => port !== UNDO_PORT);
  if (ports.length > 0 && !ports.includes(result.port))
    return {
      kind: 'failed',
      error: {
        message: `${node.node.type} returned unknown port "${result.port}" (ports: ${ports.join(', ')})`,
        kind: 'engine.bad-port',
        retryable: false,
      },
    };
  // Checked before anything recursive (JSON.stringify) sees the output: a deep one overflows the stack.
  const deep = jsonDepthExcess(result.output);
  if (deep)
    return failed(
      `${node.node.type} ${describeDepthExcess('output', 'output', deep)}`,
      deep.circular ? 'engine.bad-output' : 'node.output-too-deep',
    );
  let text: string | undefined;
  try {
    text = JSON.stringify(result.output);
  } catch (error) {
    return failed(`output is not JSON-serialisable: ${String(error)}`, 'engine.bad-output');
  }
  const bytes = text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
  if (bytes > node.maxOutputBytes)
    // The details carry the sizes, never the value: it is what was too large to keep.
    return failed(outputTooLargeMessage(bytes, node.maxOutputBytes), OUTPUT_TOO_LARGE, {
      bytes,
      limitBytes: node.maxOutputBytes,
    });
  // The journal stores JSON: normalise now so that replay sees exactly what downstream saw.
  const output = text === undefined ? null : (JSON.parse(text) as unknown);
  return { kind: 'completed', port: ports.length > 0 ? result.port : null, output };
}

function failed(message: string, kind: string, details?: Record<string, unknown>): ExecutionOutcome {
  return { kind: 'failed', error: { message, kind, retryable: false, ...(details && { details }) } };
}

/** How much of a failure is kept: a node may throw with a whole response in its message or details. */
const FAILURE_LIMIT = { messageChars: 8 * 1024, detailsChars: 64 * 1024 } as const;

export function toFailure(error: unknown): NodeFailure {
  if (error instanceof NodeError)
    return {
      message: clip(error.message),
      kind: error.kind,
      retryable: error.retryable,
      ...(error.details !== undefined && { details: jsonSafe(error.details) }),
    };
  if (error instanceof Error)
    return { message: clip(`${error.name}: ${error.message}`), kind: 'node.error', retryable: true };
  return { message: clip(String(error)), kind: 'node.error', retryable: true };
}

function clip(message: string): string {
  return message.length > FAILURE_LIMIT.messageChars
    ? `${message.slice(0, FAILURE_LIMIT.messageChars)}… (${message.length - FAILURE_LIMIT.messageChars} more characters)`
    : message;
}

/** Details go into the journal as JSON; anything that cannot be serialised, or is too big to keep, becomes a note. */
function jsonSafe(value: unknown): unknown {
  const deep = jsonDepthExcess(value);
  if (deep) return describeDepthExcess('details', 'details', deep);
  try {
    const text = JSON.stringify(value);
    if (text !== undefined && text.length > FAILURE_LIMIT.detailsChars)
      return `details omitted: ${text.length} characters of JSON, over the ${FAILURE_LIMIT.detailsChars} kept`;
    return text === undefined ? null : (JSON.parse(text) as unknown);
  } catch {
    return String(value);
  }
}
