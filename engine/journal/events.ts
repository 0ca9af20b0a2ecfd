// Journal events: the append-only record of a run and its source of truth. Pure types.
// Runtime events record what happened; decision events (see DECISION_TYPES) record what the
// orchestrator decided, so a replay can recompute and compare them.
import type { WaitRequest } from '../sdk/index.js';

export interface NodeFailure {
  message: string;
  kind: string;
  retryable: boolean;
  details?: unknown;
}

export interface EventDataMap {
  RunStarted: {
    workflowId: string;
    version: number;
    input: unknown;
    triggerNodeId: string;
    parentRunId: string | null;
  };
  NodeScheduled: { input: unknown };
  NodeSkipped: Record<string, never>;
  NodeStarted: { worker: string; recovered: boolean };
  NodeCompleted: { port: string | null; output: unknown };
  NodeFailed: { error: NodeFailure };
  RetryScheduled: { dueAt: number; delayMs: number };
  WaitCreated: { wait: WaitRequest };
  TimerFired: { purpose: TimerPurpose; dueAt: number; firedAt: number; lateMs: number };
  SignalReceived: {
    decision: 'approved' | 'rejected' | 'timeout';
    by: string;
    comment: string | null;
    /** What the approver was shown: the node input at decision time. */
    shownInput: unknown;
  };
  RunCompleted: { output: unknown };
  RunFailed: { error: NodeFailure & { nodeId: string | null } };
  RunCancelled: { reason: string | null; by: string | null };
}

export type TimerPurpose = 'retry' | 'wait' | 'wait-timeout';
export type EventType = keyof EventDataMap;

export type JournalEvent = {
  [T in EventType]: {
    seq: number;
    at: number;
    type: T;
    activationId: string | null;
    nodeId: string | null;
    attempt: number | null;
    data: EventDataMap[T];
  };
}[EventType];

export type EventOf<T extends EventType> = Extract<JournalEvent, { type: T }>;

/** An event before it has a place in the journal. */
export type NewEvent = JournalEvent extends infer E ? (E extends JournalEvent ? Omit<E, 'seq' | 'at'> : never) : never;

export const DECISION_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'NodeScheduled',
  'NodeSkipped',
  'RetryScheduled',
  'RunCompleted',
  'RunFailed',
]);

export function isDecision(event: { type: EventType }): boolean {
  return DECISION_TYPES.has(event.type);
}
