// One row of the runs list: status pill, id with its fork / import markers, workflow, pinned
// version, start, duration (live while the run goes on), the failure reason, and a row menu.
import { memo, useState, type MouseEvent } from 'react';
import type { RunStatus, RunSummary } from '../../../../engine/api/index.js';
import { runHref } from '../../app/routes.js';
import { absoluteTime, formatDuration, relativeTime, statusLabel } from './format.js';
import { ACTION_LABELS, actionRefusal, type RunAction } from './run-actions.js';
import { useNow } from './use-now.js';

export const ROW_HEIGHT = 36;

/** Statuses whose row shows why the run failed (a compensated run failed too, then undid its steps). */
const FAILED: ReadonlySet<RunStatus> = new Set(['failed', 'compensating', 'compensated', 'compensation_failed']);

export interface RunRowProps {
  run: RunSummary;
  index: number;
  workflowName: string | undefined;
  selected: boolean;
  focused: boolean;
  onSelect: (run: RunSummary, index: number, checked: boolean, range: boolean) => void;
  onOpen: (run: RunSummary) => void;
  onAction: (action: RunAction, runs: RunSummary[]) => void;
}

export function rowDomId(runId: string): string {
  return `run-row-${runId}`;
}

export const RunRow = memo(function RunRow(props: RunRowProps) {
  const { run, index, selected, focused } = props;
  // The menu's items exist only while it is open (fewer elements per row while scrolling); the
  // row component is reused for other runs as the list scrolls, so the menu belongs to one run.
  const [menuOf, setMenuOf] = useState<string | null>(null);
  const menuOpen = menuOf === run.runId;
  const act = (action: RunAction) => {
    setMenuOf(null);
    props.onAction(action, [run]);
  };
  // A click anywhere on the row opens the run, except on its own controls.
  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    if ((event.target as HTMLElement).closest('input, button, a, details')) return;
    props.onOpen(run);
  };
  return (
    <div
      role="row"
      id={rowDomId(run.runId)}
      className={`run-row${selected ? ' selected' : ''}${focused ? ' focused' : ''}`}
      style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      aria-rowindex={index + 2}
      aria-selected={selected}
      aria-current={focused ? 'true' : undefined}
      data-testid="run-row"
      data-run-id={run.runId}
      data-status={run.status}
      onClick={onClick}
    >
      <div role="gridcell" className="cell-select">
        <input
          type="checkbox"
          checked={selected}
          tabIndex={-1}
          aria-label={`Select run ${run.runId}`}
          onChange={() => {}}
          onClick={(event) => props.onSelect(run, index, event.currentTarget.checked, event.shiftKey)}
        />
      </div>
      <div role="gridcell" className="cell-status">
        <span className={`run-pill run-pill-${run.status}`}>{statusLabel(run.status)}</span>
      </div>
      <div role="gridcell" className="cell-id">
        <a href={runHref(run.runId)} tabIndex={-1} className="run-id">
          {run.runId}
        </a>
        {run.forkOf && (
          <span className="run-marker fork" title={`Forked from run ${run.forkOf.runId} at step ${run.forkOf.seq}`}>
            fork
          </span>
        )}
        {run.imported && (
          <span className="run-marker imported" title="Imported from an export: read-only, never executed">
            imported
          </span>
        )}
      </div>
      <div role="gridcell" className="cell-workflow" title={run.workflowId}>
        {props.workflowName ?? <span className="muted">{run.workflowId}</span>}
      </div>
      <div role="gridcell" className="cell-version">
        v{run.version}
      </div>
      <div role="gridcell" className="cell-started">
        <Started at={run.createdAt} />
      </div>
      <div role="gridcell" className="cell-duration">
        {run.status === 'running' || run.status === 'waiting' || run.status === 'compensating' ? (
          <LiveDuration from={run.createdAt} />
        ) : (
          formatDuration((run.finishedAt ?? run.updatedAt) - run.createdAt)
        )}
      </div>
      <div role="gridcell" className="cell-failure" title={failureTitle(run)}>
        {FAILED.has(run.status) && run.error && (
          <>
            {run.error.nodeId !== null && <code>{run.error.nodeId}</code>} {run.error.message}
          </>
        )}
      </div>
      <div role="gridcell" className="cell-menu">
        <details
          className="row-menu"
          open={menuOpen}
          onToggle={(event) => setMenuOf(event.currentTarget.open ? run.runId : null)}
        >
          <summary aria-label={`Actions for run ${run.runId}`}>⋯</summary>
          {menuOpen && (
            <div className="menu">
              <button type="button" onClick={() => props.onOpen(run)}>
                Open
              </button>
              {(['cancel', 'redrive'] as const).map((action) => {
                const refusal = actionRefusal(action, run);
                return (
                  <button
                    key={action}
                    type="button"
                    className={action === 'cancel' ? 'danger' : undefined}
                    disabled={refusal !== null}
                    title={refusal ?? undefined}
                    onClick={() => act(action)}
                  >
                    {ACTION_LABELS[action].verb}
                    {action === 'cancel' ? '…' : ''}
                  </button>
                );
              })}
            </div>
          )}
        </details>
      </div>
    </div>
  );
});

/** Rows not loaded yet (further down than the pages read so far). */
export function PlaceholderRow({ index }: { index: number }) {
  return (
    <div
      role="row"
      className="run-row placeholder"
      style={{ transform: `translateY(${index * ROW_HEIGHT}px)` }}
      aria-rowindex={index + 2}
      data-testid="run-row-placeholder"
    >
      <div role="gridcell" className="cell-loading">
        Loading…
      </div>
    </div>
  );
}

function Started({ at }: { at: number }) {
  const now = useNow();
  return (
    <time dateTime={new Date(at).toISOString()} title={absoluteTime(at)}>
      {relativeTime(at, now)}
    </time>
  );
}

function LiveDuration({ from }: { from: number }) {
  const now = useNow();
  return <span className="live">{formatDuration(now - from)}</span>;
}

function failureTitle(run: RunSummary): string | undefined {
  if (!FAILED.has(run.status) || !run.error) return undefined;
  const where = run.error.nodeId === null ? 'the run' : `node ${run.error.nodeId}`;
  return `Failed at ${where} (${run.error.kind}): ${run.error.message}`;
}
