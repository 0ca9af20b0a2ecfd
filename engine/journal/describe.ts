// One line per event for people (the CLI's `show`, the run timeline): a handler per event type.
import { formatDuration } from '../model/duration.js';
import { waitKindOf } from '../waits/index.js';
import { handle, type EventHandlers, type JournalEvent } from './events.js';

/** Timers fired later than this are reported as late. */
const LATE_MS = 1000;

/** What the event says beyond its type, node and attempt; '' when nothing. */
export function eventDetail(event: JournalEvent): string {
  return handle(details, event);
}

const details: EventHandlers<string> = {
  RunStarted: (event) => `${event.data.workflowId} v${event.data.version} input ${short(event.data.input)}`,
  NodeScheduled: () => '',
  NodeSkipped: () => '',
  NodeStarted: (event) => (event.data.recovered ? '(recovered after a crash)' : ''),
  NodeCompleted: (event) => `${event.data.port ? `→ ${event.data.port} ` : ''}${short(event.data.output)}`,
  NodeFailed: ({ data: { error } }) => `✗ ${error.message} [${error.kind}${error.retryable ? ', retryable' : ''}]`,
  RetryScheduled: (event) => `in ${formatDuration(event.data.delayMs)}`,
  WaitCreated: ({ data: { wait } }) => `${waitKindOf(wait).label.toLowerCase()}: ${waitKindOf(wait).describe(wait)}`,
  TimerFired: ({ data }) =>
    `(${data.purpose})${data.lateMs > LATE_MS ? ` late by ${formatDuration(data.lateMs)}` : ''}`,
  SignalReceived: ({ data: { signal, pending } }) => {
    const record = waitKindOf(signal.wait)?.record;
    return `${pending === true ? `${record?.pendingLabel ?? 'vote'}: ` : ''}${record?.detail(signal) ?? `by ${signal.by}`}`;
  },
  RunCompleted: (event) => short(event.data.output),
  RunFailed: ({ data: { error } }) => `${error.nodeId ? `at "${error.nodeId}": ` : ''}${error.message}`,
  RunCancelled: ({ data }) =>
    [data.by ? `by ${data.by}` : '', data.reason ? `— ${data.reason}` : ''].filter(Boolean).join(' '),
  NodeInherited: ({ data }) =>
    `from run ${data.from.runId} at #${data.from.seq}${data.edited ? ' (output edited)' : ''} ${short(data.output)}`,
  CompensationStarted: ({ data }) =>
    data.cause === 'cancelled'
      ? 'after the cancellation: undoing completed steps'
      : `after ${data.error?.nodeId ? `"${data.error.nodeId}" failed` : 'the failure'}: undoing completed steps`,
  RunCompensated: () => 'every completed step was undone',
  RunCompensationFailed: ({ data }) =>
    `compensation "${data.error.nodeId ?? ''}" (undoing "${data.compensates}") failed: ${data.error.message}`,
  RunRedriven: ({ data }) => `by ${data.by}: ${data.activationIds.join(', ')} again`,
  NodeNoted: ({ data: { notes } }) =>
    clipText(`${notes.length} note${notes.length === 1 ? '' : 's'}: ${notes.map((note) => note.message).join(' · ')}`),
};

/** A node's note as one line: level, kind and message. */
export function noteLine(note: { level: string; kind: string; message: string }): string {
  return `${note.level.padEnd(5)} ${note.kind}: ${note.message}`;
}

function clipText(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** JSON, cut to 120 characters. */
export function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
