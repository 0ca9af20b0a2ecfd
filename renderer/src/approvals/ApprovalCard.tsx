// The approval card: what is asked (title, instructions, the input shown to the approver), a
// comment, and Approve / Reject. Used by the inbox and by the run view for a waiting approval.
// A decision someone else made first is told as such ("Already approved by alice at …"), from the
// run's record of it, never as a generic error.
import { useId, useState } from 'react';
import { ApiError } from '../../../engine/api/index.js';
import { useApi } from '../app/client-context.js';
import { JsonView } from '../ui/JsonView.js';
import { errorText } from '../ui/toast.js';
import { useApprover } from './decider.js';
import { Markdown } from './markdown.js';
import './approvals.css';

export interface ApprovalRequest {
  runId: string;
  nodeId: string;
  title: string;
  instructions: string;
  input: unknown;
}

type Decision = 'approved' | 'rejected';

type Outcome =
  | { kind: 'decided'; decision: Decision; by: string }
  | { kind: 'already'; decision: string; by: string; at: number }
  | { kind: 'error'; message: string };

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function ApprovalCard({
  request,
  onDecided,
}: {
  request: ApprovalRequest;
  onDecided?: (decision: Decision) => void;
}) {
  const api = useApi();
  const approver = useApprover();
  const [nameDraft, setNameDraft] = useState(approver.name);
  const [editingName, setEditingName] = useState(!approver.known);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const ids = useId();

  /** Who decided first, from the run's record of the wait (the refusal names them too, as prose). */
  const firstDecision = async (): Promise<Outcome | null> => {
    const run = await api.getRun({ runId: request.runId });
    const signal = run.activations.find(
      (activation) => activation.nodeId === request.nodeId && activation.signal,
    )?.signal;
    return signal && 'decision' in signal
      ? { kind: 'already', decision: signal.decision, by: signal.by, at: signal.at }
      : null;
  };

  const decide = async (decision: Decision) => {
    const by = (editingName ? nameDraft : approver.name).trim() || approver.name;
    approver.remember(by);
    setEditingName(false);
    setBusy(true);
    try {
      await api.decide({
        runId: request.runId,
        nodeId: request.nodeId,
        decision,
        by,
        ...(comment.trim() !== '' && { comment: comment.trim() }),
      });
      setOutcome({ kind: 'decided', decision, by });
      onDecided?.(decision);
    } catch (error) {
      const first =
        error instanceof ApiError && error.code === 'conflict' ? await firstDecision().catch(() => null) : null;
      setOutcome(first ?? { kind: 'error', message: errorText(error) });
    } finally {
      setBusy(false);
    }
  };

  const closed = outcome !== null && outcome.kind !== 'error';
  return (
    <section
      className="approval-card"
      data-testid="approval-card"
      data-run-id={request.runId}
      data-node-id={request.nodeId}
      aria-label={`Approval: ${request.title}`}
    >
      <h3 className="approval-title">{request.title}</h3>
      {request.instructions.trim() !== '' && <Markdown className="approval-instructions" text={request.instructions} />}
      <div className="approval-input">
        <span className="muted">Input</span>
        <JsonView value={request.input} testId="approval-input" label="Input shown to the approver" />
      </div>
      {!closed && (
        <>
          <label className="approval-field" htmlFor={`${ids}-comment`}>
            Comment
          </label>
          <textarea
            id={`${ids}-comment`}
            data-testid="approval-comment"
            rows={2}
            value={comment}
            maxLength={10_000}
            onChange={(event) => setComment(event.target.value)}
            placeholder="Optional: why, for the record"
          />
          {editingName ? (
            <>
              <label className="approval-field" htmlFor={`${ids}-name`}>
                Your name (remembered)
              </label>
              <input
                id={`${ids}-name`}
                data-testid="approval-name"
                value={nameDraft}
                maxLength={200}
                onChange={(event) => setNameDraft(event.target.value)}
              />
            </>
          ) : (
            <p className="muted approval-as">
              Deciding as <strong>{approver.name}</strong>{' '}
              <button
                type="button"
                className="link"
                onClick={() => {
                  setNameDraft(approver.name);
                  setEditingName(true);
                }}
              >
                change
              </button>
            </p>
          )}
          <div className="approval-actions">
            <button type="button" className="primary" disabled={busy} onClick={() => void decide('approved')}>
              Approve
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void decide('rejected')}>
              Reject
            </button>
          </div>
        </>
      )}
      {outcome && (
        <p className={`approval-outcome approval-outcome-${outcome.kind}`} role="status" data-testid="approval-outcome">
          {outcome.kind === 'decided'
            ? `${outcome.decision === 'approved' ? 'Approved' : 'Rejected'} by ${outcome.by}. The run goes on.`
            : outcome.kind === 'already'
              ? `Already ${outcome.decision} by ${outcome.by} at ${DATE_TIME.format(outcome.at)}.`
              : `Could not decide: ${outcome.message}`}
        </p>
      )}
    </section>
  );
}
