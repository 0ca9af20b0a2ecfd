// The node SDK: the small surface a node type sees (definition shape, execution context, errors).
// Imported by `nodes/*` and by the engine runtime; it imports only `engine/model` and the wait kinds.
import type { z } from 'zod';
import type { Schedule } from '../model/cron.js';
import type { PortSpec } from '../model/ports.js';
import type { RetryPolicy } from '../model/workflow.js';
import type { WaitOutcome, WaitRequest } from '../waits/index.js';

/** The ports and form field types of an approval, as its wait kind defines them. */
export { APPROVE, FORM_FIELD_TYPES, personKey, REJECT, TIMEOUT_PORT } from '../waits/index.js';

export { OUTPUT_LIMIT, OUTPUT_TOO_LARGE, outputTooLargeMessage, type RetryPolicy } from '../model/workflow.js';
export type { WaitOutcome, WaitRequest } from '../waits/index.js';
export { childRunId, compileJsonSchema, itemRunId, MAX_CHILD_CONCURRENCY, MAX_CHILD_ITEMS } from '../waits/index.js';
export { misfirePolicies, type MisfirePolicy } from '../waits/index.js';
export type { Schedule } from '../model/cron.js';

/** How a node touches the world; the commit of its start and completion decide by it (runtime/deferral.ts). */
export type SideEffectClass = 'pure' | 'read' | 'write' | 'irreversible';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface SandboxRequest {
  /** A JS function body (`code` node) or an expression (`branch.if`). */
  source: string;
  mode: 'function' | 'expression';
  input: unknown;
  timeoutMs: number;
  memoryLimitBytes: number;
  /** The JSON text of the result may not be longer than this; refused inside the sandbox. */
  maxOutputBytes: number;
  /** Aborting it drops a queued request and stops a running one (the node was cancelled). */
  signal?: AbortSignal;
  /**
   * The same as `signal`, asked instead of listened to (the pool asks every few ms): what
   * `ctx.sandbox` passes for the activation, so no node needs an AbortSignal to be cancellable.
   */
  cancelled?: () => boolean;
  /**
   * The activation's time (ms), what `$date.now()` answers: set by the engine (the time the
   * activation was scheduled, journaled), so a retry or a recovery sees the same. Nodes leave it out.
   */
  now?: number;
  /**
   * Gets what the code printed with `console.*` (capped; `dropped`: lines past the cap), once,
   * before `evaluate` settles — also when the code threw or ran out of time.
   */
  onConsole?: (lines: ConsoleLine[], dropped: number) => void;
}

/** A line the code printed: strings as they are, other values as JSON, separated by spaces. */
export interface ConsoleLine {
  level: 'log' | 'info' | 'warn' | 'error';
  text: string;
}

/**
 * Compiles a `{{ }}` expression of a node's config without running it: null, or why it does not
 * compile and where (0-based offset in the source). Validation reports it with the field's column.
 */
export type ExpressionSyntax = (source: string) => { message: string; offset: number } | null;

export interface Sandbox {
  /** Runs untrusted code with no fs, network or process; throws NodeError on failure. */
  evaluate(request: SandboxRequest): Promise<unknown>;
  /**
   * The value `evaluate` would resolve to, when the sandbox can give it at once without running the
   * code anywhere (direct evaluation: a plain expression over `input`); undefined otherwise —
   * including whenever `evaluate` would throw — and then `evaluate` decides.
   */
  evaluateNow?(request: SandboxRequest): { value: unknown } | undefined;
}

export interface NodeContext<Config> {
  runId: string;
  activationId: string;
  nodeId: string;
  /** 1 for the first attempt. The same attempt number is reused when a crash interrupts it. */
  attempt: number;
  /** Stable across retries and crash recovery: `runId:activationId`. */
  idempotencyKey: string;
  input: unknown;
  config: Config;
  /** Aborted when the run is cancelled, the engine shuts down or the start-to-close timeout passes. */
  signal: AbortSignal;
  /**
   * The node's log: journaled with the activation's end (a `NodeNoted` event, kind `log`, the
   * fields as its data), shown in the run view and `stepwise show`. Capped and redacted like notes.
   */
  log: Logger;
  /**
   * Notes a record in the journal (an LLM attempt, a console line), journaled with the activation's
   * end in the same commit, also when it fails. At most 200 notes / 64 KiB per activation; past
   * that a last note says how many were dropped. Credential values and URL user info are redacted.
   */
  note(note: NoteInput): void;
  sandbox: Sandbox;
  /** Named secrets (API keys, tokens), read by name from the node's config; values never go in config. */
  credentials: Credentials;
  /** Limits the engine enforces on this activation; a node may stop early when it sees one crossed. */
  limits: NodeLimits;
  /** The saved workflows, for nodes that start child runs. */
  workflows: WorkflowPins;
  /**
   * Answers recorded by earlier activations of this node type (any run), for nodes whose calls
   * cost money (llm.chat). Shared by the engine's runs; bounded (least recently used go first).
   */
  cache: NodeCache;
  /** The run was started in playback mode: use a recorded answer (`cache`) instead of calling out. */
  playback: boolean;
  now(): number;
}

export interface NodeCache {
  /**
   * The value put under `key` (any JSON: the engine hashes its canonical JSON with sha-256, within
   * the node type), or undefined. Never put a secret in a key or a value: entries outlive runs.
   */
  get(key: unknown): Promise<unknown>;
  put(key: unknown, value: unknown): Promise<void>;
}

export type NoteLevel = 'info' | 'warn' | 'error';

export interface NoteInput {
  /** What made it, e.g. `console`, `llm.attempt`. */
  kind: string;
  message: string;
  level?: NoteLevel;
  /** JSON data; kept whole when it fits the activation's budget, else replaced by a note of its size. */
  data?: unknown;
}

export interface WorkflowPins {
  /**
   * The version a child run of `workflowId` is pinned to: `version` itself, or the latest saved
   * one. Throws a non-retryable NodeError (`subworkflow.not-found`) when there is none, or when the
   * version cannot be started by hand (no `trigger.manual`).
   */
  pin(workflowId: string, version: number | 'latest'): Promise<number>;
}

export interface Credentials {
  /**
   * The value of a credential. Throws a non-retryable NodeError (`credential.missing`) naming it
   * and how to set it. Whatever a value is read here, the engine redacts it from the node's
   * errors, logs and output.
   */
  get(name: string): string;
}

export interface NodeLimits {
  /** Largest output (its JSON text, in bytes) the node may produce. */
  outputBytes: number;
}

/** What an executor returns: an output on a port, or a request to park the run. */
export type NodeResult = { port: string; output: unknown } | { wait: WaitRequest };

export interface ConfigProblem {
  /** Dotted path inside `config`, e.g. "url". Empty for the whole config. */
  field: string;
  message: string;
  /**
   * A rule for new versions only (e.g. "no secret in a header"): a version pinned before the rule
   * existed still compiles, so the runs on it finish on what they started on.
   */
  newVersionsOnly?: boolean;
}

export interface NodeDefinition<Config = Record<string, unknown>> {
  type: string;
  typeVersion: number;
  title: string;
  description: string;
  category: 'Triggers' | 'Logic' | 'Network' | 'Flow' | 'Human' | 'Data';
  icon: string;
  ports: PortSpec;
  /** Config schema (with defaults); validation errors name the field. */
  config: z.ZodType<Config>;
  retry: RetryPolicy;
  /**
   * 'pure': nothing outside the engine sees an execution (no I/O, no child run), so its start and
   * completion may stay in memory until a later commit and a crash may run it again unseen. Any
   * other class has its start made durable before it executes.
   */
  sideEffects: SideEffectClass;
  /** 'all': runs once every live incoming edge delivered (merge). Default 'any'. */
  join?: 'all' | 'any';
  /** 'trigger' nodes receive the run input; 'output' nodes set the run output. */
  role?: 'trigger' | 'output';
  /**
   * Executed synchronously inside the commit that schedules it, saving a round trip. Only for
   * pure nodes whose `execute` returns at once (no promise, no I/O): trigger, merge, output.
   */
  inline?: boolean;
  /**
   * How long one execution may take before the engine abandons it (start-to-close), when the
   * workflow node sets no `timeoutMs`. Default: the engine's (5 minutes).
   */
  startToCloseMs?(config: Config): number;
  /**
   * A trigger that starts runs on a schedule: the engine keeps its next fire time on disk while it
   * is in the workflow's latest version, and starts a run from it at each fire. Null: no schedule.
   */
  schedule?(config: Config): Schedule | null;
  /** Checks beyond the schema (syntax of code, a parseable duration). */
  check?(config: Config): ConfigProblem[];
  execute(ctx: NodeContext<Config>): Promise<NodeResult> | NodeResult;
  /**
   * A pure node's result when it is certain at once (its code answered by `ctx.sandbox.evaluateNow`),
   * else undefined and `execute` runs as usual. Given, it must be what `execute` would return: the
   * node then runs inside the commit that schedules it, like an `inline` one, with no round trip.
   */
  executeNow?(ctx: NodeContext<Config>): NodeResult | undefined;
  /** Turns a finished wait into the node's result. Required when execute can wait. */
  resume?(ctx: NodeContext<Config>, outcome: WaitOutcome): NodeResult;
}

/** Declares a node type; keeps the config type flowing into `execute`. */
export function defineNode<Config>(definition: NodeDefinition<Config>): NodeDefinition<Config> {
  return definition;
}

/** A definition with its config type erased, for lists of different node types. Safe because a
 * definition's `execute` is only ever called with the config its own schema produced. */
export type AnyNodeDefinition = NodeDefinition<unknown>;

/** Stable machine-readable error kinds; retry policies can name them as non-retryable. */
export type ErrorKind =
  | 'node.error'
  | 'code.error'
  | 'code.timeout'
  | 'code.memory'
  | 'http.network'
  | 'http.timeout'
  | 'http.429'
  | 'http.4xx'
  | 'http.5xx'
  | 'fail'
  | 'engine.unknown-node-type'
  | (string & {});

/** An error a node throws on purpose. `retryable: false` stops retries whatever the policy. */
export class NodeError extends Error {
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly details: unknown;
  constructor(message: string, options: { kind: ErrorKind; retryable: boolean; details?: unknown }) {
    super(message);
    this.name = 'NodeError';
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.details = options.details;
  }
}

/** Never retried. */
export class TerminalError extends NodeError {
  constructor(message: string, kind: ErrorKind = 'node.error', details?: unknown) {
    super(message, { kind, retryable: false, details });
    this.name = 'TerminalError';
  }
}

/** Start-to-close limit of a node whose type and workflow node set none. */
export const DEFAULT_START_TO_CLOSE_MS = 5 * 60_000;

export const NO_RETRY: RetryPolicy = {
  maxAttempts: 1,
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maxIntervalMs: 60_000,
  jitter: 0,
  nonRetryableErrorKinds: [],
};

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maxIntervalMs: 5 * 60_000,
  jitter: 0.2,
  nonRetryableErrorKinds: [],
};
