// The runs list (`#/runs`, filtered by the URL): every run newest first, windowed (only the rows
// on screen are in the DOM), read page by page as the user scrolls and kept live from runsChanged.
// Rows are selected with checkboxes (shift-click for a range) for cancel and redrive in bulk.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import type { RunChange, RunSummary, WorkflowSummary } from '../../../engine/api/index.js';
import { useApi, useEngineEvent, useOnReconnect } from '../app/client-context.js';
import { openWorkflowFile } from '../app/platform.js';
import { navigate, runHref, runsHref, type RunsFilter } from '../app/routes.js';
import { ConfirmModal } from '../ui/Modal.js';
import { scrollToKeep, visibleRange } from '../ui/windowing.js';
import { useClientHeight } from '../ui/useClientHeight.js';
import { errorText, useToast } from '../ui/toast.js';
import { hasFilter, RunsFilters, setFilter } from './list/RunsFilters.js';
import { PlaceholderRow, ROW_HEIGHT, rowDomId, RunRow } from './list/RunRow.js';
import { RunPages } from './list/run-pages.js';
import { applyAction, eligible, outcomeText, type RunAction } from './list/run-actions.js';
import './runs-list.css';

/** Rows rendered above and below the visible ones, so a fast scroll does not show blanks. */
const OVERSCAN = 10;
/** runsChanged comes once per commit: a burst is applied as one update. */
const LIVE_DEBOUNCE_MS = 200;
const HEADER_HEIGHT = 32;

export function RunsList({ filter }: { filter: RunsFilter }) {
  const api = useApi();
  const toast = useToast();
  const filterKey = runsHref(filter);
  // One page store per filter: a new filter reads from the top again.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the key is the filter's identity
  const pages = useMemo(() => new RunPages(api, filter), [api, filterKey]);
  useOnReconnect(useCallback(() => pages.reload(), [pages]));
  const snapshot = useSyncExternalStore(pages.subscribe, pages.getSnapshot);
  const { rows, total } = snapshot;
  const [workflows, refreshWorkflows] = useWorkflows();
  const names = useMemo(() => new Map(workflows.map((workflow) => [workflow.id, workflow.name])), [workflows]);

  useLiveRuns(pages);

  // ── Window ──────────────────────────────────────────────────────────────────────────────────
  const viewport = useRef<HTMLDivElement>(null);
  const [firstVisible, setFirstVisible] = useState(0);
  const height = useClientHeight(viewport, 600);
  const bodyHeight = Math.max(0, height - HEADER_HEIGHT);
  const { start: first, end: last } = visibleRange(firstVisible * ROW_HEIGHT, bodyHeight, ROW_HEIGHT, total, OVERSCAN);

  useEffect(() => pages.want(last), [pages, last]);
  useLayoutEffect(() => {
    if (viewport.current) viewport.current.scrollTop = 0;
  }, [pages]);

  // New runs put on top: scrolled down, the rows in view stay where they are.
  const prepended = useRef({ pages, count: 0 });
  useLayoutEffect(() => {
    const before = prepended.current;
    prepended.current = { pages, count: snapshot.prepended };
    const added = before.pages === pages ? snapshot.prepended - before.count : 0;
    const element = viewport.current;
    if (added > 0 && element && element.scrollTop > 0) element.scrollTop += added * ROW_HEIGHT;
  }, [pages, snapshot.prepended]);

  const onScroll = () => {
    const element = viewport.current;
    if (element) setFirstVisible(Math.floor(element.scrollTop / ROW_HEIGHT));
  };

  // ── Focus and selection ─────────────────────────────────────────────────────────────────────
  const [focusedId, setFocusedId] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  /** The row a shift-click extends a range from. */
  const [anchor, setAnchor] = useState<string | null>(null);
  // Another filter is another list: start at its top with nothing selected (render-time reset).
  const [shownPages, setShownPages] = useState(pages);
  if (shownPages !== pages) {
    setShownPages(pages);
    setFirstVisible(0);
    setSelected(new Set());
    setFocusedId(null);
    setAnchor(null);
  }

  const onSelect = useCallback(
    (run: RunSummary, index: number, checked: boolean, range: boolean) => {
      const all = pages.getSnapshot().rows;
      const from = range && anchor !== null ? all.findIndex((row) => row.runId === anchor) : -1;
      setSelected((current) => {
        const next = new Set(current);
        const [low, high] = from === -1 ? [index, index] : [Math.min(from, index), Math.max(from, index)];
        for (let at = low; at <= high; at += 1) {
          const id = all[at]?.runId;
          if (id === undefined) continue;
          if (checked) next.add(id);
          else next.delete(id);
        }
        return next;
      });
      setAnchor(run.runId);
      setFocusedId(run.runId);
    },
    [pages, anchor],
  );
  const onOpen = useCallback((run: RunSummary) => navigate(runHref(run.runId)), []);

  const scrollIntoView = (index: number) => {
    const element = viewport.current;
    if (!element) return;
    element.scrollTop = scrollToKeep(index, element.scrollTop, bodyHeight, ROW_HEIGHT);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if ((event.target as HTMLElement).closest('input, button, a, details')) return;
    const current = focusedId === null ? -1 : rows.findIndex((row) => row.runId === focusedId);
    const step: Record<string, number> = {
      ArrowDown: 1,
      ArrowUp: -1,
      PageDown: Math.max(1, Math.floor(bodyHeight / ROW_HEIGHT) - 1),
      PageUp: -Math.max(1, Math.floor(bodyHeight / ROW_HEIGHT) - 1),
    };
    if (event.key in step) {
      event.preventDefault();
      if (rows.length === 0) return;
      const target =
        current === -1 ? firstVisible : Math.min(rows.length - 1, Math.max(0, current + (step[event.key] ?? 0)));
      const run = rows[target];
      if (!run) return;
      setFocusedId(run.runId);
      scrollIntoView(target);
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      const target = event.key === 'Home' ? 0 : rows.length - 1;
      const run = rows[target];
      if (run) {
        setFocusedId(run.runId);
        scrollIntoView(target);
      }
    } else if (event.key === 'Enter' && current !== -1) {
      event.preventDefault();
      const run = rows[current];
      if (run) onOpen(run);
    } else if (event.key === ' ' && current !== -1) {
      event.preventDefault();
      const run = rows[current];
      if (run) onSelect(run, current, !selected.has(run.runId), event.shiftKey);
    }
  };

  // ── Actions ─────────────────────────────────────────────────────────────────────────────────
  const [confirming, setConfirming] = useState<RunSummary[] | null>(null);
  const perform = useCallback(
    async (action: RunAction, runs: RunSummary[]) => {
      const targets = eligible(action, runs);
      if (targets.length === 0) return;
      const outcome = await applyAction(targets, (runId) =>
        action === 'cancel' ? api.cancelRun({ runId }) : api.redriveRun({ runId }),
      );
      pages.replace(outcome.done);
      toast(outcomeText(action, outcome), outcome.failed.length === 0 ? 'success' : 'error');
    },
    [api, pages, toast],
  );
  const onAction = useCallback(
    (action: RunAction, runs: RunSummary[]) => {
      if (action === 'cancel') setConfirming(eligible('cancel', runs));
      else void perform(action, runs);
    },
    [perform],
  );

  const selectedRuns = useMemo(
    () => (selected.size === 0 ? [] : rows.filter((row) => selected.has(row.runId))),
    [rows, selected],
  );
  const cancellable = useMemo(() => eligible('cancel', selectedRuns).length, [selectedRuns]);
  const redrivable = useMemo(() => eligible('redrive', selectedRuns).length, [selectedRuns]);
  const allLoadedSelected = rows.length > 0 && selectedRuns.length === rows.length;

  const importRun = async () => {
    const file = await openWorkflowFile();
    if (!file) return;
    try {
      const { run, warnings } = await api.importRun({ text: file.text });
      for (const warning of warnings) toast(`Import: ${warning}`, 'info');
      toast(`Imported run ${run.runId} (read-only).`, 'success');
      pages.add(run);
      navigate(runHref(run.runId));
    } catch (error) {
      toast(`Import of ${file.name} failed: ${errorText(error)}`, 'error');
    }
  };

  // ── Rendering ───────────────────────────────────────────────────────────────────────────────
  // Each row has a slot that it keeps while in the window, and the children are in slot order:
  // a scroll gives the slots leaving the window to the rows entering it, so React updates those
  // few rows in place and never moves or re-creates DOM nodes.
  const shown: ReactNode[] = [];
  const slots = Math.max(1, last - first);
  let focusedShown = false;
  for (let slot = 0; slot < slots && first < last; slot += 1) {
    const index = first + ((slot - (first % slots) + slots) % slots);
    const run = rows[index];
    if (run && run.runId === focusedId) focusedShown = true;
    shown.push(
      run ? (
        <RunRow
          key={slot}
          run={run}
          index={index}
          workflowName={names.get(run.workflowId)}
          selected={selected.has(run.runId)}
          focused={run.runId === focusedId}
          onSelect={onSelect}
          onOpen={onOpen}
          onAction={onAction}
        />
      ) : (
        <PlaceholderRow key={`placeholder-${slot}`} index={index} />
      ),
    );
  }
  // A run of a workflow this page has not heard of (the CLI saved it: no workflowsChanged reaches
  // us from another process): read the names again, once per such workflow.
  const unknownWorkflow = rows.slice(first, last).find((run) => !names.has(run.workflowId))?.workflowId;
  const asked = useRef(new Set<string>());
  useEffect(() => {
    if (unknownWorkflow === undefined || asked.current.has(unknownWorkflow)) return;
    asked.current.add(unknownWorkflow);
    refreshWorkflows();
  }, [unknownWorkflow, refreshWorkflows]);
  const empty = snapshot.done && rows.length === 0 && snapshot.error === null;
  const workflowName = filter.workflowId === undefined ? null : (names.get(filter.workflowId) ?? filter.workflowId);

  return (
    <section className="runs-list" data-testid="runs-list" aria-label="Runs">
      <header className="runs-head">
        <h1>
          Runs
          {workflowName !== null && (
            <span className="runs-scope">
              {' '}
              of {workflowName}
              {filter.version !== undefined && ` v${filter.version}`}
            </span>
          )}
        </h1>
        <span className="muted" data-testid="runs-total">
          {snapshot.counts ? `${total} run${total === 1 ? '' : 's'}` : ''}
        </span>
        <button type="button" onClick={() => void importRun()} title="Open a run export (stepwise export) read-only">
          Import run…
        </button>
      </header>
      <RunsFilters filter={filter} counts={snapshot.counts} workflows={workflows} />
      <div className="runs-selection" aria-live="polite">
        <label className="select-all">
          <input
            type="checkbox"
            checked={allLoadedSelected}
            ref={(element) => {
              if (element) element.indeterminate = selected.size > 0 && !allLoadedSelected;
            }}
            disabled={rows.length === 0}
            onChange={() => setSelected(allLoadedSelected ? new Set() : new Set(rows.map((row) => row.runId)))}
            aria-label={`Select all loaded runs (${rows.length})`}
          />
          {selected.size > 0 ? `${selected.size} selected` : `Select all loaded (${rows.length})`}
        </label>
        {selected.size > 0 && (
          <>
            <button
              type="button"
              className="danger"
              disabled={cancellable === 0}
              title={cancellable === 0 ? 'No selected run is running or waiting (imported runs never are)' : undefined}
              onClick={() => onAction('cancel', selectedRuns)}
              data-testid="cancel-selected"
            >
              Cancel {cancellable}…
            </button>
            <button
              type="button"
              disabled={redrivable === 0}
              title={redrivable === 0 ? 'No selected run failed (imported runs cannot be redriven)' : undefined}
              onClick={() => onAction('redrive', selectedRuns)}
              data-testid="redrive-selected"
            >
              Redrive {redrivable}
            </button>
            <button type="button" onClick={() => setSelected(new Set())}>
              Clear selection
            </button>
          </>
        )}
      </div>
      {snapshot.error !== null && (
        <div className="runs-error" role="alert">
          Could not read the runs: {snapshot.error}{' '}
          <button type="button" onClick={() => pages.retry()}>
            Retry
          </button>
        </div>
      )}
      <div
        ref={viewport}
        className="runs-viewport"
        role="grid"
        aria-label="Runs"
        aria-rowcount={total + 1}
        aria-activedescendant={focusedShown && focusedId !== null ? rowDomId(focusedId) : undefined}
        tabIndex={0}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
        data-testid="runs-viewport"
      >
        <div role="row" className="runs-columns" aria-rowindex={1}>
          <div role="columnheader" className="cell-select" aria-label="Selected" />
          <div role="columnheader" className="cell-status">
            Status
          </div>
          <div role="columnheader" className="cell-id">
            Run
          </div>
          <div role="columnheader" className="cell-workflow">
            Workflow
          </div>
          <div role="columnheader" className="cell-version">
            Version
          </div>
          <div role="columnheader" className="cell-started">
            Started
          </div>
          <div role="columnheader" className="cell-duration">
            Duration
          </div>
          <div role="columnheader" className="cell-failure">
            Failure
          </div>
          <div role="columnheader" className="cell-menu" aria-label="Actions" />
        </div>
        <div className="runs-body" style={{ height: total * ROW_HEIGHT }}>
          {shown}
        </div>
        {empty && (
          <div className="runs-empty" data-testid="runs-empty">
            {hasFilter(filter) ? (
              <>
                <p>No runs match these filters.</p>
                <button type="button" onClick={() => setFilter({})}>
                  Clear filters
                </button>
              </>
            ) : (
              <>
                <p>No runs yet.</p>
                <p className="muted">
                  Open a workflow and press <strong>Run</strong> (or <code>stepwise run &lt;file&gt;</code> in a
                  terminal): its runs show here as they start. <strong>Import run…</strong> opens a run exported
                  elsewhere.
                </p>
              </>
            )}
          </div>
        )}
      </div>
      {confirming && (
        <ConfirmModal
          title={confirming.length === 1 ? 'Cancel run?' : `Cancel ${confirming.length} runs?`}
          text={
            confirming.length === 1
              ? `Run ${confirming[0]?.runId ?? ''} stops: its open waits and timers are dropped and executing steps aborted.`
              : `These ${confirming.length} runs stop: their open waits and timers are dropped and executing steps aborted.`
          }
          confirm={confirming.length === 1 ? 'Cancel run' : `Cancel ${confirming.length} runs`}
          onClose={() => setConfirming(null)}
          onConfirm={() => {
            const runs = confirming;
            setConfirming(null);
            void perform('cancel', runs);
          }}
        />
      )}
    </section>
  );
}

/** Workflow names for the rows and the workflow filter, kept current. */
function useWorkflows(): [WorkflowSummary[], () => void] {
  const api = useApi();
  const [workflows, setWorkflows] = useState<WorkflowSummary[]>([]);
  const refresh = useCallback(() => {
    api.listWorkflows({}).then(setWorkflows, () => {});
  }, [api]);
  useEffect(refresh, [refresh]);
  useEngineEvent('workflowsChanged', refresh);
  return [workflows, refresh];
}

/** runsChanged, gathered over a short pause and handed to the page store as one update. */
function useLiveRuns(pages: RunPages): void {
  const pending = useRef<RunChange[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = null;
      pending.current = [];
    },
    [pages],
  );
  useEngineEvent(
    'runsChanged',
    useCallback(
      (data: { runs: RunChange[] }) => {
        pending.current.push(...data.runs);
        if (timer.current !== null) return;
        timer.current = setTimeout(() => {
          timer.current = null;
          const changes = pending.current;
          pending.current = [];
          pages.changed(changes);
        }, LIVE_DEBOUNCE_MS);
      },
      [pages],
    ),
  );
}
