// Human-readable output of the CLI (the `--json` output is the API objects as they are).
import { eventDetail, noteLine, short } from '../journal/describe.js';
import type { JournalEvent } from '../journal/events.js';
import { formatDuration, isoTime } from '../model/duration.js';
import type { RunDetail, RunSummary } from '../runtime/engine.js';

export function formatRunLine(run: RunSummary): string {
  const when = isoTime(run.createdAt).replace('T', ' ').slice(0, 19);
  return `${run.runId}  ${run.status.padEnd(9)}  ${run.workflowId} v${run.version}  ${when}`;
}

export function formatRunDetail(detail: RunDetail): string {
  const lines = [
    `run       ${detail.runId}`,
    `status    ${detail.status}${detail.settled === 'parked' && detail.status !== 'waiting' ? ' (parked)' : ''}`,
    `workflow  ${detail.workflowId} v${detail.version} (pinned; content ${detail.versionHash.slice(0, 12)})`,
    `started   ${isoTime(detail.createdAt)}`,
  ];
  if (detail.forkOf !== null) lines.push(`fork of   ${detail.forkOf.runId} at #${detail.forkOf.seq}`);
  for (const fork of detail.forks) lines.push(`forked    ${fork.runId} at #${fork.seq}`);
  if (detail.finishedAt !== null)
    lines.push(`finished  ${isoTime(detail.finishedAt)} (${formatDuration(detail.finishedAt - detail.createdAt)})`);
  if (detail.latestVersion > detail.version)
    lines.push(`          (the workflow has newer versions, up to v${detail.latestVersion})`);
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
          : `${approval.decision} by ${approval.decidedBy} at ${isoTime(approval.decidedAt ?? 0)}${approval.comment ? ` — "${approval.comment}"` : ''}`;
      lines.push(`  ${approval.nodeId}: ${approval.title} — ${decided}`);
    }
  }
  lines.push('', 'events:');
  for (const event of detail.events) lines.push(`  ${formatEvent(event)}`);
  return lines.join('\n');
}

export function formatEvent(event: JournalEvent): string {
  const time = isoTime(event.at).slice(11, 23);
  const subject = event.nodeId === null ? '' : ` ${event.nodeId}`;
  const attempt = event.attempt === null || event.attempt === 1 ? '' : ` attempt ${event.attempt}`;
  // A node's notes get a line each (a code node's console, LLM attempts): the one-line summary would cut them.
  const detail =
    event.type === 'NodeNoted'
      ? `${event.data.notes.length} note${event.data.notes.length === 1 ? '' : 's'}:${event.data.notes.map((note) => `\n        ${noteLine(note)}`).join('')}`
      : eventDetail(event);
  return `#${String(event.seq).padStart(3)} ${time} ${event.type}${subject}${attempt}${detail ? ` ${detail}` : ''}`;
}
