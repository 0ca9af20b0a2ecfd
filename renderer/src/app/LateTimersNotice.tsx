// At start-up, what fired late: timers that came due while Stepwise was closed (or asleep), each
// with its run. Read from `lateTimers` on load, after a reconnect (a restarted engine host has its
// own list) and a second after runs change. Dismissing hides the timers shown then; the engine
// host's start time keys it, so a later start shows its own.
import { useCallback, useRef, useState } from 'react';
import type { LateTimer } from '../../../engine/api/index.js';
import { absoluteTime, formatDuration } from '../runs/list/format.js';
import { useApi, useLiveRefresh } from './client-context.js';
import { runHref } from './routes.js';
import './late-timers.css';

const DISMISSED_KEY = 'stepwise.lateTimers.dismissed';
const REFRESH_DELAY_MS = 1000;

const OUTCOMES: Record<LateTimer['outcome'], string> = {
  fired: 'fired late',
  skipped: 'skipped (missed port)',
  asked: 'waiting for a person in the inbox',
  retried: 'retried late',
  'timed-out': 'timed out',
  failed: 'failed',
};

/** "<since>:<count>": the first `count` timers of the host started at `since` were dismissed. */
function dismissedCount(since: number): number {
  const [at, count] = (localStorage.getItem(DISMISSED_KEY) ?? '').split(':');
  return Number(at) === since ? Number(count) || 0 : 0;
}

export function LateTimersNotice() {
  const api = useApi();
  const [report, setReport] = useState<{ since: number; timers: LateTimer[] } | null>(null);
  const [hidden, setHidden] = useState(0);
  const latest = useRef(0);

  const refresh = useCallback(() => {
    const request = ++latest.current;
    api.lateTimers({}).then(
      ({ since, timers }) => {
        if (request !== latest.current) return;
        setReport({ since, timers });
        setHidden(dismissedCount(since));
      },
      () => {},
    );
  }, [api]);
  useLiveRefresh(refresh, REFRESH_DELAY_MS);

  const shown = report?.timers.slice(hidden) ?? [];
  if (!report || shown.length === 0) return null;
  const dismiss = () => {
    localStorage.setItem(DISMISSED_KEY, `${report.since}:${report.timers.length}`);
    setHidden(report.timers.length);
  };
  return (
    <aside className="late-timers" role="status" aria-label="Late timers" data-testid="late-timers-notice">
      <div className="late-timers-head">
        <strong>{shown.length === 1 ? 'A timer' : `${shown.length} timers`} came due while Stepwise was closed</strong>
        <button type="button" className="late-timers-close" aria-label="Dismiss" onClick={dismiss}>
          ×
        </button>
      </div>
      <ul>
        {shown.map((late) => (
          <li key={`${late.runId}/${late.nodeId}/${late.firedAt}`} data-testid="late-timer" data-run-id={late.runId}>
            <a href={runHref(late.runId)}>
              run {late.runId.slice(0, 12)} · “{late.nodeId}”
            </a>{' '}
            <span className="muted">
              due <time dateTime={new Date(late.dueAt).toISOString()}>{absoluteTime(late.dueAt)}</time>,{' '}
              {formatDuration(late.lateMs)} late: {OUTCOMES[late.outcome]}
            </span>
          </li>
        ))}
      </ul>
    </aside>
  );
}
