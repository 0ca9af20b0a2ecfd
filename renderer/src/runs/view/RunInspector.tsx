// The run view's right panel: one node as of the current step (status, input, output, error,
// attempts, its log, idempotency key, timings, wait, the child runs it started) and the event at this step, with the parts the step
// changed marked (`data-changed="true"`). A node waiting for an approval at the latest step shows the
// approval card, to decide right here. A node with no activation yet is "not reached": its input
// and output read `null`, as a node that has not produced one.
import { memo, useState, type ReactNode } from 'react';
import {
  cardOf,
  eventDetail,
  idempotencyKeyOf,
  type ActivationState,
  type JournalEvent,
  type NodeStateAt,
  type RunDetail,
} from '../../../../engine/api/index.js';
import { ApprovalCard, decidedText } from '../../approvals/ApprovalCard.js';
import { runHref } from '../../app/routes.js';
import { JsonView } from '../../ui/JsonView.js';
import { activationDuration, formatMs, type Inheritance, type NodePart } from './run-step.js';

export interface RunInspectorProps {
  runId: string;
  position: number;
  nodeId: string | null;
  nodeName: string | null;
  node: NodeStateAt | undefined;
  activation: ActivationState | undefined;
  /** The parts of the node this step changed (compared with the step before). */
  changed: ReadonlySet<NodePart>;
  /** Set when a fork inherited the activation: it ran in the origin run, under the origin's key. */
  inherited: Inheritance | undefined;
  event: JournalEvent | undefined;
  /** The node was chosen by a click (else it follows the current event). */
  pinned: boolean;
  onFollow: () => void;
  /** Keeps the inspector on this node (as a click on it would): after deciding here, the person
   * sees the node's outcome rather than whichever node the run moves on to. */
  onKeep: (nodeId: string) => void;
  /** The step shown is the run's latest: a wait still open there can be decided. */
  latest: boolean;
  /** The child runs this node started (`subworkflow`, `loop.map`), with their status now. */
  childRuns: readonly ChildRun[];
}

type ChildRun = RunDetail['children'][number];

/** Child runs listed at most: a `loop.map` may start 10,000; the rest are counted. */
const CHILD_RUNS_SHOWN = 200;

/** The runs a node started, each a link to its run view; the same array until the run is read again. */
const ChildRuns = memo(function ChildRuns({ runs }: { runs: readonly ChildRun[] }) {
  return (
    <>
      <h3>Child runs</h3>
      <ol className="run-children" data-testid="child-runs">
        {runs.slice(0, CHILD_RUNS_SHOWN).map((child) => (
          <li key={child.runId}>
            {child.index !== undefined && <span className="muted">item {child.index} · </span>}
            <a href={runHref(child.runId)} data-testid="child-run-link" data-run-id={child.runId}>
              {child.runId}
            </a>{' '}
            <span className={`run-pill run-pill-${child.status ?? 'unknown'}`} data-testid="child-run-status">
              {child.status ?? 'not in this database'}
            </span>
          </li>
        ))}
      </ol>
      {runs.length > CHILD_RUNS_SHOWN && (
        <p className="muted">and {runs.length - CHILD_RUNS_SHOWN} more (all in the runs list, by run id)</p>
      )}
    </>
  );
});

/** A section heading, marked when the step changed that part. */
function PartHeading({ part, changed, children }: { part: NodePart; changed: boolean; children: ReactNode }) {
  return (
    <h3 className={changed ? 'run-part-changed' : undefined} data-part={part} data-changed={changed}>
      {children}
      {changed && <span className="run-changed-marker"> changed at this step</span>}
    </h3>
  );
}

// One formatter (as toLocaleString() formats): building one per call costs more than the render of
// a step when a node has a hundred attempts.
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});
const time = (at: number | null | undefined) => (at === null || at === undefined ? '—' : DATE_TIME.format(at));

/** Values keep their identity while a step does not touch them: their trees are not rendered again. */
const Json = memo(JsonView);

/** An activation's attempts: the same array until an attempt starts or ends, so rendered again only then. */
const Attempts = memo(function Attempts({ attempts }: { attempts: ActivationState['attempts'] }) {
  return (
    <ol className="run-attempts">
      {attempts.map((attempt) => (
        <li key={`${attempt.attempt}-${attempt.startedAt ?? 0}`}>
          #{attempt.attempt} {time(attempt.startedAt)}
          {attempt.finishedAt !== null && attempt.startedAt !== null
            ? ` · ${formatMs(attempt.finishedAt - attempt.startedAt)}`
            : ' · not finished'}
          {attempt.recoveries > 0 && ` · recovered ${attempt.recoveries}×`}
          {attempt.error && <span className="run-attempt-error"> ✗ {attempt.error.message}</span>}
        </li>
      ))}
      {attempts.length === 0 && <li className="muted">none started yet</li>}
    </ol>
  );
});

/** What the node noted (its console, its log, LLM attempts), journaled with each attempt's end. */
const NodeLog = memo(function NodeLog({ notes }: { notes: ActivationState['notes'] }) {
  const attempts = new Set(notes.map((note) => note.attempt)).size;
  return (
    <ol className="run-log" data-testid="node-log">
      {notes.map((note, index) => (
        <li key={index} className={`run-log-${note.level}`} data-kind={note.kind}>
          <span className="muted">
            {attempts > 1 && `#${note.attempt} `}
            {time(note.at)} {note.kind}
          </span>{' '}
          <span className="run-log-message">{note.message}</span>
          {note.data !== undefined && (
            <details>
              <summary>data</summary>
              <Json value={note.data} label="Note data" />
            </details>
          )}
        </li>
      ))}
      {notes.length === 0 && <li className="muted">Nothing logged.</li>}
    </ol>
  );
});

function RunInspectorView(props: RunInspectorProps) {
  const { runId, position, nodeId, nodeName, node, activation, event, changed, inherited } = props;
  // A decision made on this card: the card goes as the run moves on, this line says what was decided.
  const [decidedHere, setDecidedHere] = useState<{ activationId: string; text: string } | null>(null);
  return (
    <div className="run-inspector" data-testid="run-inspector">
      <section className="run-inspector-node">
        <header>
          <h2>{nodeName ?? 'No node'}</h2>
          {node && (
            <span
              className={`run-pill run-pill-${node.status}${changed.has('status') ? ' run-part-changed' : ''}`}
              data-testid="inspector-status"
              data-changed={changed.has('status')}
              title={changed.has('status') ? 'Changed at this step' : undefined}
            >
              {node.status}
            </span>
          )}
          {props.pinned && (
            <button type="button" className="link" onClick={props.onFollow}>
              Follow the step
            </button>
          )}
        </header>
        {nodeId === null && <p className="muted">Click a node on the canvas to inspect it.</p>}
        {nodeId !== null && !activation && (
          <p className="muted" data-testid="not-reached">
            Not reached at step {position}.
          </p>
        )}
        {props.latest && activation?.status === 'waiting' && activation.wait?.kind === 'approval' && (
          <ApprovalCard
            key={activation.activationId}
            request={{
              runId,
              nodeId: activation.nodeId,
              title: activation.wait.title,
              instructions: activation.wait.instructions,
              input: activation.input,
              card: cardOf(activation.wait),
              // Approvals recorded so far towards the quorum, from the journal.
              votes: activation.votes.flatMap((vote) =>
                vote.wait === 'approval' ? [{ decision: vote.decision, by: vote.by, at: vote.at }] : [],
              ),
            }}
            onDecided={(decided) => {
              if (decided.kind !== 'decided') return;
              props.onKeep(activation.nodeId);
              setDecidedHere({
                activationId: activation.activationId,
                text: `${decidedText(decided.outcome, decided.by)}. The run goes on.`,
              });
            }}
          />
        )}
        {decidedHere !== null &&
          decidedHere.activationId === activation?.activationId &&
          activation.status !== 'waiting' && (
            <p className="approval-outcome approval-outcome-decided" role="status" data-testid="approval-outcome">
              {decidedHere.text}
            </p>
          )}
        <PartHeading part="input" changed={changed.has('input')}>
          Input
        </PartHeading>
        <Json value={activation ? activation.input : null} testId="step-input" label="Input" />
        <PartHeading part="output" changed={changed.has('output')}>
          Output{activation?.port ? ` (port ${activation.port})` : ''}
        </PartHeading>
        <Json value={activation ? activation.output : null} testId="step-output" label="Output" />
        {activation?.error && (
          <>
            <PartHeading part="error" changed={changed.has('error')}>
              Error
            </PartHeading>
            <div className="run-error" data-testid="step-error">
              <p>
                <strong>{activation.error.message}</strong>
              </p>
              <p className="muted">
                kind {activation.error.kind}
                {activation.error.retryable ? ', retryable' : ', not retryable'} · after {activation.attempts.length}{' '}
                attempt{activation.attempts.length === 1 ? '' : 's'}
              </p>
              {activation.error.details !== undefined && (
                <Json value={activation.error.details} label="Error details (stack)" />
              )}
            </div>
          </>
        )}
        {activation && (
          <>
            <PartHeading part="attempts" changed={changed.has('attempts')}>
              Attempts
            </PartHeading>
            <Attempts attempts={activation.attempts} />
            <h3>Log</h3>
            <NodeLog notes={activation.notes} />
            <dl className="run-facts">
              <dt>Idempotency key</dt>
              <dd>
                <code data-testid="idempotency-key">
                  {idempotencyKeyOf(inherited?.runId ?? runId, activation.activationId)}
                </code>
                {inherited && (
                  <span className="muted" data-testid="inherited-from">
                    {' '}
                    (inherited from <a href={runHref(inherited.runId, inherited.seq)}>{inherited.runId}</a> step{' '}
                    {inherited.seq})
                  </span>
                )}
              </dd>
              <dt>Scheduled</dt>
              <dd>{time(activation.scheduledAt)}</dd>
              <dt>Started</dt>
              <dd>{time(activation.attempts[0]?.startedAt)}</dd>
              <dt>Finished</dt>
              <dd>{time(activation.finishedAt)}</dd>
              <dt>Duration</dt>
              <dd>
                {(() => {
                  const ms = activationDuration(activation, event?.at ?? activation.scheduledAt);
                  return ms === null ? '—' : formatMs(ms);
                })()}
              </dd>
              {activation.retryDueAt !== null && (
                <>
                  <dt>Next retry</dt>
                  <dd>{time(activation.retryDueAt)}</dd>
                </>
              )}
            </dl>
            {activation.wait && (
              <>
                <h3>Waits for</h3>
                <Json value={activation.wait} label="Wait" />
              </>
            )}
            {activation.signal && (
              <>
                <h3>Resolved by</h3>
                <Json value={activation.signal} label="Signal" />
              </>
            )}
          </>
        )}
        {props.childRuns.length > 0 && <ChildRuns runs={props.childRuns} />}
      </section>
      <section className="run-inspector-event" data-testid="step-event">
        <h3>Event at step {position}</h3>
        {event ? (
          <p>
            <strong>{event.type}</strong>
            {event.nodeId && ` · ${event.nodeId}`}
            {event.attempt !== null && ` · attempt ${event.attempt}`} · {time(event.at)}
            <br />
            <span className="muted">{eventDetail(event)}</span>
          </p>
        ) : (
          <p className="muted">Before the first event.</p>
        )}
      </section>
    </div>
  );
}

export const RunInspector = memo(RunInspectorView);
