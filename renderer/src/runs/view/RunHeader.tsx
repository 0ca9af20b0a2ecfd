// The run view's header: what the run is (workflow, id, status, pinned version and whether newer
// ones exist, timing, fork links, its parent run, imported) and what can be done with it (redrive, cancel, fork,
// export, verify replay). Commands go to the engine; the live journal shows their effect.
import { useState } from 'react';
import { UNDO_PORT, type ReplayCheck, type RunDetail, type Version } from '../../../../engine/api/index.js';
import { useApi } from '../../app/client-context.js';
import { saveWorkflowFile } from '../../app/platform.js';
import { runHref, runsHref, workflowHref } from '../../app/routes.js';
import { ConfirmModal } from '../../ui/Modal.js';
import { errorText, useToast } from '../../ui/toast.js';
import { statusLabel } from '../list/format.js';
import { formatMs } from './run-step.js';
import { useNow } from './use-now.js';

export interface RunHeaderProps {
  run: RunDetail;
  version: Version;
  position: number;
  verify: ReplayCheck | null;
  onVerified: (check: ReplayCheck | null) => void;
  onFork: () => void;
  /** A command changed the run: read it again now rather than on the next push. */
  onChanged: () => void;
}

export function RunHeader({ run, version, position, verify, onVerified, onFork, onChanged }: RunHeaderProps) {
  const api = useApi();
  const toast = useToast();
  const [confirm, setConfirm] = useState<'redrive' | 'cancel' | null>(null);
  const [busy, setBusy] = useState(false);
  const live = run.status === 'running' || run.status === 'waiting';
  // What the failing compensation was undoing: the source of its undo edge.
  const undoing =
    run.status === 'compensation_failed'
      ? version.graph.edges.find((edge) => edge.sourceHandle === UNDO_PORT && edge.target === run.error?.nodeId)?.source
      : undefined;
  const now = useNow(live || run.status === 'compensating');
  const finished = live || run.status === 'compensating' ? now : (run.finishedAt ?? run.updatedAt);

  const act = async (label: string, work: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await work();
      onChanged();
    } catch (error) {
      toast(`${label} failed: ${errorText(error)}`, 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <header className="run-header" data-testid="run-header">
      <div className="run-title">
        <h1>
          <a href={workflowHref(run.workflowId)}>{version.graph.name}</a>
        </h1>
        <span className={`run-pill run-pill-${run.status}`} data-testid="run-status" data-status={run.status}>
          {statusLabel(run.status)}
        </span>
        {run.imported && (
          <span
            className="run-pill run-pill-imported"
            data-testid="run-imported"
            title="Read-only: never executed here"
          >
            imported
          </span>
        )}
        <code className="run-id" title="Run id">
          {run.runId}
        </code>
        <button
          type="button"
          className="link"
          aria-label="Copy the run id"
          onClick={() =>
            void navigator.clipboard.writeText(run.runId).then(
              () => toast('Run id copied', 'success'),
              () => toast('Could not copy', 'error'),
            )
          }
        >
          copy
        </button>
      </div>
      <div className="run-meta">
        <span>
          on{' '}
          <a href={workflowHref(run.workflowId, run.version)} data-testid="pinned-version">
            v{run.version}
          </a>
          {run.latestVersion > run.version && (
            <span className="run-newer" data-testid="newer-versions">
              {' '}
              · newer versions exist: <a href={workflowHref(run.workflowId, run.latestVersion)}>v{run.latestVersion}</a>
            </span>
          )}
        </span>
        <span>started {new Date(run.createdAt).toLocaleString()}</span>
        <span>
          {live ? 'running for' : 'took'} {formatMs(Math.max(0, finished - run.createdAt))}
        </span>
        <a href={runsHref({ workflowId: run.workflowId })}>all runs of this workflow</a>
        {run.parentRunId !== null && (
          <span data-testid="parent-run">
            child of run{' '}
            <a href={runHref(run.parentRunId)} data-testid="parent-run-link" data-run-id={run.parentRunId}>
              {run.parentRunId}
            </a>
          </span>
        )}
        {run.forkOf && (
          <span data-testid="fork-of">
            forked from <a href={runHref(run.forkOf.runId, run.forkOf.seq)}>{run.forkOf.runId}</a> at step{' '}
            {run.forkOf.seq}
          </span>
        )}
        {run.forks.length > 0 && (
          <span data-testid="forks">
            forks:{' '}
            {run.forks.map((fork, index) => (
              <span key={fork.runId}>
                {index > 0 && ', '}
                <a href={runHref(fork.runId)}>{fork.runId}</a> (step {fork.seq})
              </span>
            ))}
          </span>
        )}
      </div>
      {run.status === 'compensation_failed' && run.error && (
        <p className="run-compensation-failed" role="alert" data-testid="compensation-failed">
          Compensation failed: “{run.error.nodeId}”{undoing ? `, undoing “${undoing}”,` : ''} did not finish:{' '}
          {run.error.message} <span className="muted">[{run.error.kind}]</span>. What it was to undo stays done: fix it
          by hand.
        </p>
      )}
      {(run.status === 'compensating' || run.status === 'compensated') && (
        <p className="run-compensation" data-testid="run-compensation">
          {run.status === 'compensating'
            ? 'Undoing the completed steps (their compensations run in reverse order)…'
            : 'Every completed step with a compensation was undone.'}
        </p>
      )}
      {run.error && run.status !== 'compensation_failed' && (
        <p className="run-failure" data-testid="run-failure">
          Failed{run.error.nodeId ? ` at “${run.error.nodeId}”` : ''}: {run.error.message}{' '}
          <span className="muted">[{run.error.kind}]</span>
        </p>
      )}
      <div className="run-actions">
        {run.status === 'failed' && !run.imported && (
          <button type="button" className="primary" disabled={busy} onClick={() => setConfirm('redrive')}>
            Redrive
          </button>
        )}
        {live && !run.imported && (
          <button type="button" className="danger" disabled={busy} onClick={() => setConfirm('cancel')}>
            Cancel run
          </button>
        )}
        {!run.imported && (
          <button type="button" disabled={busy || position < 1} onClick={onFork} data-testid="fork-button">
            Fork from step {position}…
          </button>
        )}
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void act('Export', async () => {
              const file = await api.exportRun({ runId: run.runId });
              await saveWorkflowFile(file.fileName, file.text);
            })
          }
        >
          Export
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void act('Verify replay', async () => onVerified(await api.verifyReplay({ runId: run.runId })))
          }
        >
          Verify replay
        </button>
      </div>
      {verify && (
        <div
          className={`run-verify ${verify.ok ? 'run-verify-ok' : 'run-verify-diverged'}`}
          role="status"
          data-testid="verify-result"
        >
          {verify.ok
            ? `Replay matches (${verify.events} events)`
            : `Replay diverges at step ${verify.divergence?.seq ?? '?'}${
                verify.divergence?.nodeId ? ` (node “${verify.divergence.nodeId}”)` : ''
              }: ${verify.divergence?.message ?? 'unknown'}${
                verify.divergence?.expected ? ` — now decides: ${verify.divergence.expected}` : ''
              }`}
          <button type="button" className="link" aria-label="Dismiss" onClick={() => onVerified(null)}>
            ✕
          </button>
        </div>
      )}
      {confirm && (
        <ConfirmModal
          title={confirm === 'redrive' ? 'Redrive this run?' : 'Cancel this run?'}
          text={
            confirm === 'redrive'
              ? 'The run continues from its failed nodes on its pinned version; what completed is not executed again.'
              : 'Open waits and timers are dropped and running nodes are aborted.'
          }
          confirm={confirm === 'redrive' ? 'Redrive' : 'Cancel run'}
          onClose={() => setConfirm(null)}
          onConfirm={() => {
            const kind = confirm;
            setConfirm(null);
            void act(kind === 'redrive' ? 'Redrive' : 'Cancel', () =>
              kind === 'redrive' ? api.redriveRun({ runId: run.runId }) : api.cancelRun({ runId: run.runId }),
            );
          }}
        />
      )}
    </header>
  );
}
