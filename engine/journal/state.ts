// Run state as a fold over the journal: state(k) = events[0..k].reduce(evolve). Pure; mutates the
// state it is given (the runtime keeps one per active run) — `initialState` makes a fresh one.
import type { WaitRequest } from '../sdk/index.js';
import type { JournalEvent, NodeFailure } from './events.js';

export type ActivationStatus =
  'scheduled' | 'running' | 'retrying' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'cancelled';

export type RunStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

const OPEN: ReadonlySet<ActivationStatus> = new Set(['scheduled', 'running', 'retrying', 'waiting']);

export interface AttemptRecord {
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: NodeFailure | null;
  /** Started again after a crash interrupted this attempt. */
  recoveries: number;
}

export interface ActivationState {
  activationId: string;
  nodeId: string;
  status: ActivationStatus;
  attempt: number;
  input: unknown;
  output: unknown;
  port: string | null;
  error: NodeFailure | null;
  wait: WaitRequest | null;
  retryDueAt: number | null;
  scheduledAt: number;
  finishedAt: number | null;
  /** Journal seq of the event that resolved it (completion order for "first input wins"). */
  resolvedSeq: number | null;
  attempts: AttemptRecord[];
}

export interface RunState {
  runId: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: (NodeFailure & { nodeId: string | null }) | null;
  triggerNodeId: string;
  parentRunId: string | null;
  activations: Map<string, ActivationState>;
  openActivations: number;
  waitingActivations: number;
  lastSeq: number;
  startedAt: number;
  finishedAt: number | null;
}

export function initialState(runId: string): RunState {
  return {
    runId,
    workflowId: '',
    version: 0,
    status: 'running',
    input: null,
    output: null,
    error: null,
    triggerNodeId: '',
    parentRunId: null,
    activations: new Map(),
    openActivations: 0,
    waitingActivations: 0,
    lastSeq: 0,
    startedAt: 0,
    finishedAt: null,
  };
}

export function isOpen(status: ActivationStatus): boolean {
  return OPEN.has(status);
}

export function isTerminal(status: RunStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

export function foldEvents(runId: string, events: Iterable<JournalEvent>): RunState {
  const state = initialState(runId);
  for (const event of events) evolve(state, event);
  return state;
}

export function evolve(state: RunState, event: JournalEvent): RunState {
  state.lastSeq = event.seq;
  const activation = event.activationId === null ? undefined : state.activations.get(event.activationId);
  switch (event.type) {
    case 'RunStarted':
      state.workflowId = event.data.workflowId;
      state.version = event.data.version;
      state.input = event.data.input;
      state.triggerNodeId = event.data.triggerNodeId;
      state.parentRunId = event.data.parentRunId;
      state.startedAt = event.at;
      break;
    case 'NodeScheduled':
    case 'NodeSkipped': {
      const created: ActivationState = {
        activationId: event.activationId ?? '',
        nodeId: event.nodeId ?? '',
        status: 'scheduled',
        attempt: 1,
        input: event.type === 'NodeScheduled' ? event.data.input : null,
        output: null,
        port: null,
        error: null,
        wait: null,
        retryDueAt: null,
        scheduledAt: event.at,
        finishedAt: null,
        resolvedSeq: null,
        attempts: [],
      };
      state.activations.set(created.activationId, created);
      state.openActivations += 1;
      if (event.type === 'NodeSkipped') {
        setStatus(state, created, 'skipped');
        created.resolvedSeq = event.seq;
      }
      break;
    }
    case 'NodeStarted':
      if (!activation) break;
      activation.attempt = event.attempt ?? activation.attempt;
      setStatus(state, activation, 'running');
      {
        const last = activation.attempts.at(-1);
        if (last && last.attempt === activation.attempt && last.finishedAt === null) last.recoveries += 1;
        else
          activation.attempts.push({
            attempt: activation.attempt,
            startedAt: event.at,
            finishedAt: null,
            error: null,
            recoveries: 0,
          });
      }
      break;
    case 'NodeCompleted':
      if (!activation) break;
      activation.output = event.data.output;
      activation.port = event.data.port;
      activation.finishedAt = event.at;
      activation.resolvedSeq = event.seq;
      activation.wait = null;
      finishAttempt(activation, event.at, null);
      setStatus(state, activation, 'completed');
      break;
    case 'NodeFailed':
      if (!activation) break;
      activation.error = event.data.error;
      activation.finishedAt = event.at;
      activation.resolvedSeq = event.seq;
      finishAttempt(activation, event.at, event.data.error);
      setStatus(state, activation, 'failed');
      break;
    case 'RetryScheduled':
      if (!activation) break;
      activation.retryDueAt = event.data.dueAt;
      activation.finishedAt = null;
      activation.resolvedSeq = null;
      setStatus(state, activation, 'retrying');
      break;
    case 'WaitCreated':
      if (!activation) break;
      activation.wait = event.data.wait;
      setStatus(state, activation, 'waiting');
      break;
    case 'TimerFired':
      if (activation && event.data.purpose === 'retry') {
        activation.attempt = event.attempt ?? activation.attempt + 1;
        activation.retryDueAt = null;
        setStatus(state, activation, 'scheduled');
      }
      break;
    case 'SignalReceived':
      break;
    case 'RunCompleted':
      state.status = 'completed';
      state.output = event.data.output;
      state.finishedAt = event.at;
      break;
    case 'RunFailed':
      state.status = 'failed';
      state.error = event.data.error;
      state.finishedAt = event.at;
      cancelOpen(state);
      break;
    case 'RunCancelled':
      state.status = 'cancelled';
      state.finishedAt = event.at;
      cancelOpen(state);
      break;
  }
  if (!isTerminal(state.status)) state.status = deriveLiveStatus(state);
  return state;
}

function setStatus(state: RunState, activation: ActivationState, status: ActivationStatus): void {
  const wasOpen = isOpen(activation.status);
  const nowOpen = isOpen(status);
  if (wasOpen && !nowOpen) state.openActivations -= 1;
  if (!wasOpen && nowOpen) state.openActivations += 1;
  if (activation.status === 'waiting') state.waitingActivations -= 1;
  if (status === 'waiting') state.waitingActivations += 1;
  activation.status = status;
}

function finishAttempt(activation: ActivationState, at: number, error: NodeFailure | null): void {
  const last = activation.attempts.at(-1);
  if (last && last.finishedAt === null) {
    last.finishedAt = at;
    last.error = error;
  }
}

function cancelOpen(state: RunState): void {
  for (const activation of state.activations.values())
    if (isOpen(activation.status)) setStatus(state, activation, 'cancelled');
}

/** 'waiting' when every open activation is parked on a wait; otherwise 'running'. */
function deriveLiveStatus(state: RunState): RunStatus {
  return state.openActivations > 0 && state.waitingActivations === state.openActivations ? 'waiting' : 'running';
}
