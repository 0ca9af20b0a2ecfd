// Human-readable output of the CLI (the `--json` output is the API objects as they are).
import type { JournalEvent } from '../journal/events.js';
import { formatDuration } from '../model/duration.js';
import type { RunDetail } from '../runtime/engine.js';
import type { RunSummary } from '../store/journal-store.js';

const LATE_MS = 1000;

export function formatRunLine(run: RunSummary): string {
  const when = new Date(run.createdAt).toISOString().replace('T', ' ').slice(0, 19);
  return `${run.runId}  ${run.status.padEnd(9)}  ${run.workflowId} v${run.version}  ${when}`;
}

export function formatRunDetail(detail: RunDetail): string {
  const lines = [
    `run       ${detail.runId}`,
    `status    ${detail.status}${detail.settled === 'parked' && detail.status !== 'waiting' ? ' (parked)' : ''}`,
    `workflow  ${detail.workflowId} v${detail.version} (pinned; content ${detail.versionHash.slice(0, 12)})`,
    `started   ${new Date(detail.createdAt).toISOString()}`,
  ];
  if (detail.finishedAt !== null)
    lines.push(
      `finished  ${new Date(detail.finishedAt).toISOString()} (${formatDuration(detail.finishedAt - detail.createdAt)})`,
    );
  lines.push(`input     ${short(detail.input)}`);
  if (detail.status === 'completed') lines.push(`output    ${short(detail.output)}`);
  if (detail.error !== null) lines.push(`error     ${short(detail.error)}`);
  lines.push('', 'activations:');
  for (const activation of detail.activations) {
    const attempts = activation.attempts
      .map((attempt) => {
        const took =
          attempt.startedAt !== null && attempt.finishedAt !== null
            ? ` ${formatDuration(attempt.finishedAt - attempt.startedAt)}`
            : '';
        const recovered = attempt.recoveries > 0 ? ` recovered×${attempt.recoveries}` : '';
        const error = attempt.error ? ` ✗ ${attempt.error.message}` : '';
        return `#${attempt.attempt}${took}${recovered}${error}`;
      })
      .join(', ');
    const port = activation.port !== null ? ` → ${activation.port}` : '';
    lines.push(
      `  ${activation.nodeId.padEnd(20)} ${activation.status.padEnd(9)}${port}${attempts ? `  [${attempts}]` : ''}`,
    );
  }
  if (detail.approvals.length > 0) {
    lines.push('', 'approvals:');
    for (const approval of detail.approvals) {
      const decided =
        approval.decision === null
          ? 'open'
          : `${approval.decision} by ${approval.decidedBy} at ${new Date(approval.decidedAt ?? 0).toISOString()}${approval.comment ? ` — "${approval.comment}"` : ''}`;
      lines.push(`  ${approval.nodeId}: ${approval.title} — ${decided}`);
    }
  }
  lines.push('', 'events:');
  for (const event of detail.events) lines.push(`  ${formatEvent(event)}`);
  return lines.join('\n');
}

export function formatEvent(event: JournalEvent): string {
  const time = new Date(event.at).toISOString().slice(11, 23);
  const subject = event.nodeId === null ? '' : ` ${event.nodeId}`;
  const attempt = event.attempt === null || event.attempt === 1 ? '' : ` attempt ${event.attempt}`;
  return `#${String(event.seq).padStart(3)} ${time} ${event.type}${subject}${attempt}${detailOf(event)}`;
}

function detailOf(event: JournalEvent): string {
  switch (event.type) {
    case 'NodeCompleted':
      return `${event.data.port ? ` → ${event.data.port}` : ''} ${short(event.data.output)}`;
    case 'NodeFailed':
      return ` ✗ ${event.data.error.message} [${event.data.error.kind}${event.data.error.retryable ? ', retryable' : ''}]`;
    case 'RetryScheduled':
      return ` in ${formatDuration(event.data.delayMs)}`;
    case 'NodeStarted':
      return event.data.recovered ? ' (recovered after a crash)' : '';
    case 'TimerFired':
      return ` (${event.data.purpose})${event.data.lateMs > LATE_MS ? ` late by ${formatDuration(event.data.lateMs)}` : ''}`;
    case 'WaitCreated':
      return event.data.wait.kind === 'timer'
        ? ` timer until ${new Date(event.data.wait.dueAt).toISOString()}`
        : ` approval "${event.data.wait.title}"`;
    case 'SignalReceived':
      return ` ${event.data.decision} by ${event.data.by}${event.data.comment ? ` — "${event.data.comment}"` : ''}`;
    case 'RunCompleted':
      return ` ${short(event.data.output)}`;
    case 'RunFailed':
      return ` ${event.data.error.nodeId ? `at "${event.data.error.nodeId}": ` : ''}${event.data.error.message}`;
    default:
      return '';
  }
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
