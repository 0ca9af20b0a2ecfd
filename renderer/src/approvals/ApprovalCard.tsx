// The approval card: what is asked (title, instructions, the fields computed for the approver, the
// input), who may decide, a form to fill in, a comment, and one button per outcome. Used by the
// inbox and by the run view for a waiting approval. Refusals are told plainly on the card: a
// decision someone made first ("Already approved by alice at …", from the run's record of it, never
// parsed from the error text), a person not allowed to decide (the engine's words), a form that
// does not pass (checked here before anything is sent, with the engine's own `formProblem`).
import { useId, useState } from 'react';
import {
  APPROVE,
  ApiError,
  formProblem,
  REJECT,
  type CardOutcome,
  type FormField,
  type InboxCard,
} from '../../../engine/api/index.js';
import { useApi } from '../app/client-context.js';
import { JsonView } from '../ui/JsonView.js';
import { errorText } from '../ui/toast.js';
import { useApprover } from './decider.js';
import { Markdown } from './markdown.js';
import './approvals.css';

/** A decision recorded while the wait stays open: an approval towards the quorum. */
export interface ApprovalVote {
  decision: string;
  by: string;
  at: number;
}

export interface ApprovalRequest {
  runId: string;
  nodeId: string;
  title: string;
  instructions: string;
  input: unknown;
  card: InboxCard;
  votes: readonly ApprovalVote[];
}

/** What a click led to: the wait ended with an outcome, or an approval counted towards the quorum. */
export type Decided = { kind: 'decided'; outcome: CardOutcome; by: string } | { kind: 'voted'; approvals: number };

type Said =
  | { kind: 'decided'; outcome: CardOutcome; by: string }
  | { kind: 'voted'; approvals: number; quorum: number }
  // `final`: the wait ended (someone decided); else it is this person's own earlier vote.
  | { kind: 'already'; decision: string; by: string; at: number; final: boolean }
  | { kind: 'refused'; message: string }
  | { kind: 'error'; message: string };

/** A form's inputs as typed: text for most, a checkbox's state for booleans. */
type Drafts = Record<string, string | boolean>;

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "Approved by bob", "“Escalate” chosen by bob": the fixed outcomes read as verbs, custom ones by label. */
export function decidedText(outcome: CardOutcome, by: string): string {
  if (outcome.port === APPROVE.port) return `Approved by ${by}`;
  if (outcome.port === REJECT.port) return `Rejected by ${by}`;
  return `“${outcome.label}” chosen by ${by}`;
}

/** A recorded decision in words: its outcome's label when the card has it. */
function decisionWord(decision: string, card: InboxCard): string {
  if (decision === APPROVE.port || decision === REJECT.port || decision === 'timeout') return decision;
  const label = card.outcomes.find((outcome) => outcome.port === decision)?.label ?? decision;
  return `decided “${label}”`;
}

const approvalsOf = (votes: readonly ApprovalVote[]) => votes.filter((vote) => vote.decision === APPROVE.port);

/** Who may decide, in words: assignees, the quorum and its progress, the starter excluded. */
function whoMayDecide(card: InboxCard, votes: readonly ApprovalVote[]): string[] {
  const lines: string[] = [];
  if (card.assignees.length > 0) lines.push(`Assigned to ${card.assignees.join(', ')}`);
  if (card.quorum > 1) {
    const approvals = approvalsOf(votes);
    lines.push(
      `Needs ${card.quorum} approvals — ${
        approvals.length === 0
          ? 'none so far'
          : `${approvals.length} so far: ${approvals.map((vote) => vote.by).join(', ')}`
      }`,
    );
  }
  if (card.excludeStarter) lines.push('The person who started the run may not decide');
  return lines;
}

/** The values to send: numbers as numbers, booleans as booleans, empty inputs left out. */
function formValues(form: readonly FormField[], drafts: Drafts): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of form) {
    const draft = drafts[field.name];
    if (field.type === 'boolean') {
      values[field.name] = draft === true;
      continue;
    }
    if (typeof draft !== 'string' || draft.trim() === '') continue;
    // A number that does not parse is sent as typed, so the check names the field.
    values[field.name] = field.type === 'number' && Number.isFinite(Number(draft)) ? Number(draft) : draft;
  }
  return values;
}

export function ApprovalCard({
  request,
  onDecided,
}: {
  request: ApprovalRequest;
  onDecided?: (decided: Decided) => void;
}) {
  const api = useApi();
  const approver = useApprover();
  const { card } = request;
  const [nameDraft, setNameDraft] = useState(approver.name);
  const [editingName, setEditingName] = useState(!approver.known);
  const [comment, setComment] = useState('');
  const [drafts, setDrafts] = useState<Drafts>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState<Said | null>(null);
  const ids = useId();

  /** Who decided first: the run's record of the wait, or this person's own earlier vote. */
  const firstDecision = async (by: string): Promise<Said | null> => {
    const run = await api.getRun({ runId: request.runId });
    const signal = run.activations.find(
      (activation) => activation.nodeId === request.nodeId && activation.signal,
    )?.signal;
    if (signal && 'decision' in signal)
      return { kind: 'already', decision: signal.decision, by: signal.by, at: signal.at, final: true };
    const open = run.approvals.find((approval) => approval.nodeId === request.nodeId && approval.status === 'open');
    const vote = open?.votes.find((earlier) => earlier.by === by);
    return vote ? { kind: 'already', decision: vote.decision, by: vote.by, at: vote.at, final: false } : null;
  };

  const decide = async (outcome: CardOutcome) => {
    const values = formValues(card.form, drafts);
    const wrong = formProblem(card.form, values, outcome.port);
    setProblem(wrong);
    if (wrong !== null) return;
    const by = (editingName ? nameDraft : approver.name).trim() || approver.name;
    approver.remember(by);
    setEditingName(false);
    setBusy(true);
    try {
      await api.decide({
        runId: request.runId,
        nodeId: request.nodeId,
        decision: outcome.port,
        by,
        ...(comment.trim() !== '' && { comment: comment.trim() }),
        ...(Object.keys(values).length > 0 && { values }),
      });
      // An approval short of the quorum is a vote: the wait goes on and the card stays.
      const approvals = approvalsOf(request.votes).length + 1;
      if (outcome.port === APPROVE.port && approvals < card.quorum) {
        setSaid({ kind: 'voted', approvals, quorum: card.quorum });
        onDecided?.({ kind: 'voted', approvals });
      } else {
        setSaid({ kind: 'decided', outcome, by });
        onDecided?.({ kind: 'decided', outcome, by });
      }
    } catch (error) {
      if (error instanceof ApiError && error.code === 'conflict') {
        const first = await firstDecision(by).catch(() => null);
        setSaid(first ?? { kind: 'error', message: errorText(error) });
      } else if (error instanceof ApiError && error.reason === 'not-allowed') {
        setSaid({ kind: 'refused', message: error.message });
      } else setSaid({ kind: 'error', message: errorText(error) });
    } finally {
      setBusy(false);
    }
  };

  // A refused second vote keeps the card: someone else may still approve here.
  const closed = said?.kind === 'decided' || (said?.kind === 'already' && said.final);
  const who = whoMayDecide(card, request.votes);
  // The field the problem names (`formProblem` quotes its label), marked invalid.
  const invalidField = problem === null ? null : card.form.find((field) => problem.includes(`"${field.label}"`));
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
      {card.fields.length > 0 && (
        <dl className="approval-fields" data-testid="approval-fields">
          {card.fields.map((field, index) => (
            <div key={`${index}-${field.label}`} className="approval-fields-row">
              <dt>{field.label}</dt>
              <dd>
                {typeof field.value === 'object' && field.value !== null ? (
                  <JsonView value={field.value} testId="approval-field-value" label={field.label} />
                ) : (
                  String(field.value)
                )}
              </dd>
            </div>
          ))}
        </dl>
      )}
      <div className="approval-input">
        <span className="muted">Input</span>
        <JsonView value={request.input} testId="approval-input" label="Input shown to the approver" />
      </div>
      {who.length > 0 && (
        <ul className="approval-who" data-testid="approval-who">
          {who.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
      {!closed && (
        <>
          {card.form.length > 0 && (
            <fieldset className="approval-form" data-testid="approval-form">
              <legend>To fill in</legend>
              {card.form.map((field) => (
                <FormInput
                  key={field.name}
                  id={`${ids}-form-${field.name}`}
                  field={field}
                  value={drafts[field.name]}
                  problemId={invalidField === field ? `${ids}-problem` : undefined}
                  onChange={(value) => {
                    setDrafts((current) => ({ ...current, [field.name]: value }));
                    setProblem(null);
                  }}
                />
              ))}
            </fieldset>
          )}
          {problem !== null && (
            <p id={`${ids}-problem`} className="approval-problem" role="alert" data-testid="approval-form-problem">
              {problem}
            </p>
          )}
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
            {card.outcomes.map((outcome) => (
              <button
                key={outcome.port}
                type="button"
                className={
                  outcome.port === APPROVE.port ? 'primary' : outcome.port === REJECT.port ? 'danger' : undefined
                }
                data-port={outcome.port}
                disabled={busy}
                onClick={() => void decide(outcome)}
              >
                {outcome.label}
              </button>
            ))}
          </div>
        </>
      )}
      {said && (
        <p className={`approval-outcome approval-outcome-${said.kind}`} role="status" data-testid="approval-outcome">
          {said.kind === 'decided'
            ? `${decidedText(said.outcome, said.by)}. The run goes on.`
            : said.kind === 'voted'
              ? `Your approval is recorded — ${said.approvals} of ${said.quorum}.`
              : said.kind === 'already'
                ? `Already ${decisionWord(said.decision, card)} by ${said.by} at ${DATE_TIME.format(said.at)}.`
                : said.kind === 'refused'
                  ? `Not allowed: ${said.message}`
                  : `Could not decide: ${said.message}`}
        </p>
      )}
    </section>
  );
}

/** One form field's control, labelled, by its type; a required one is marked. */
function FormInput({
  id,
  field,
  value,
  problemId,
  onChange,
}: {
  id: string;
  field: FormField;
  value: string | boolean | undefined;
  /** Set when the form's problem is this field's: the input is marked invalid and described by it. */
  problemId: string | undefined;
  onChange: (value: string | boolean) => void;
}) {
  const label = (
    <label className="approval-field" htmlFor={id}>
      {field.label}
      {field.required && (
        <span className="approval-required" aria-hidden="true">
          {' '}
          *
        </span>
      )}
    </label>
  );
  const text = typeof value === 'string' ? value : '';
  const common = {
    id,
    name: field.name,
    required: field.required,
    'data-field': field.name,
    'aria-invalid': problemId !== undefined,
    'aria-describedby': problemId,
  } as const;
  switch (field.type) {
    case 'boolean':
      return (
        <div className="approval-form-check">
          <input
            {...common}
            type="checkbox"
            checked={value === true}
            onChange={(event) => onChange(event.target.checked)}
          />
          {label}
        </div>
      );
    case 'textarea':
      return (
        <>
          {label}
          <textarea {...common} rows={3} value={text} onChange={(event) => onChange(event.target.value)} />
        </>
      );
    case 'select':
      return (
        <>
          {label}
          <select {...common} value={text} onChange={(event) => onChange(event.target.value)}>
            <option value="">—</option>
            {(field.options ?? []).map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </>
      );
    default:
      return (
        <>
          {label}
          <input
            {...common}
            type={field.type === 'number' ? 'number' : field.type === 'date' ? 'date' : 'text'}
            step={field.type === 'number' ? 'any' : undefined}
            value={text}
            onChange={(event) => onChange(event.target.value)}
          />
        </>
      );
  }
}
