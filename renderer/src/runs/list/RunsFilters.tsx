// The runs list's filters: status chips with counts, workflow and version, id prefix. The filter
// lives in the URL (the list is a function of it), so each change navigates, replacing the entry.
import { memo, useEffect, useState } from 'react';
import type { RunStatus, VersionSummary, WorkflowSummary } from '../../../../engine/api/index.js';
import { useApi } from '../../app/client-context.js';
import { navigate, runsHref, type RunsFilter } from '../../app/routes.js';
import { countTotal, RUN_STATUSES } from './run-pages.js';

/** Typing in the id box waits for a pause before the list is read again. */
const SEARCH_DELAY_MS = 300;

export function setFilter(filter: RunsFilter): void {
  navigate(runsHref(filter), { replace: true });
}

export function hasFilter(filter: RunsFilter): boolean {
  return (
    filter.workflowId !== undefined ||
    filter.version !== undefined ||
    (filter.status?.length ?? 0) > 0 ||
    (filter.idPrefix ?? '') !== ''
  );
}

/** Memoised: the list re-renders on every scrolled row, the filters only when they change. */
export const RunsFilters = memo(function RunsFilters(props: {
  filter: RunsFilter;
  counts: Readonly<Record<RunStatus, number>> | null;
  workflows: readonly WorkflowSummary[];
}) {
  const { filter, counts } = props;
  const api = useApi();
  const [loaded, setLoaded] = useState<{ workflowId: string; versions: VersionSummary[] } | null>(null);
  const versions = loaded !== null && loaded.workflowId === filter.workflowId ? loaded.versions : [];
  const [search, setSearch] = useState(filter.idPrefix ?? '');

  useEffect(() => {
    const workflowId = filter.workflowId;
    if (workflowId === undefined) return;
    let live = true;
    api.listVersions({ workflowId }).then(
      (list) => live && setLoaded({ workflowId, versions: list }),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [api, filter.workflowId]);

  // The box follows the URL (back, clear filters; a render-time reset) ...
  const [urlPrefix, setUrlPrefix] = useState(filter.idPrefix);
  if (urlPrefix !== filter.idPrefix) {
    setUrlPrefix(filter.idPrefix);
    setSearch(filter.idPrefix ?? '');
  }
  // ... and the URL follows the box once typing pauses.
  useEffect(() => {
    const typed = search.trim();
    if (typed === (filter.idPrefix ?? '')) return;
    const timer = setTimeout(() => setFilter(withIdPrefix(filter, typed)), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [search, filter]);

  const statuses = filter.status ?? [];
  const toggleStatus = (status: RunStatus) => {
    const next = statuses.includes(status) ? statuses.filter((entry) => entry !== status) : [...statuses, status];
    setFilter({ ...filter, status: RUN_STATUSES.filter((entry) => next.includes(entry)) });
  };

  return (
    <div className="runs-filters" role="search" aria-label="Filter runs">
      <div className="status-chips" role="group" aria-label="Status">
        <button
          type="button"
          className={`chip${statuses.length === 0 ? ' active' : ''}`}
          aria-pressed={statuses.length === 0}
          onClick={() => setFilter({ ...filter, status: [] })}
          data-testid="status-chip-all"
        >
          All <span className="chip-count">{counts ? countTotal(counts, {}) : '…'}</span>
        </button>
        {RUN_STATUSES.map((status) => (
          <button
            key={status}
            type="button"
            className={`chip chip-${status}${statuses.includes(status) ? ' active' : ''}`}
            aria-pressed={statuses.includes(status)}
            onClick={() => toggleStatus(status)}
            data-testid={`status-chip-${status}`}
          >
            {status} <span className="chip-count">{counts ? counts[status] : '…'}</span>
          </button>
        ))}
      </div>
      <select
        aria-label="Filter by workflow"
        value={filter.workflowId ?? ''}
        onChange={(event) => {
          const { version: _version, ...rest } = filter;
          setFilter({ ...rest, ...(event.target.value !== '' && { workflowId: event.target.value }) });
        }}
      >
        <option value="">All workflows</option>
        {filter.workflowId !== undefined && !props.workflows.some((entry) => entry.id === filter.workflowId) && (
          <option value={filter.workflowId}>{filter.workflowId}</option>
        )}
        {props.workflows.map((workflow) => (
          <option key={workflow.id} value={workflow.id}>
            {workflow.name}
          </option>
        ))}
      </select>
      {filter.workflowId !== undefined && (
        <select
          aria-label="Filter by version"
          value={filter.version ?? ''}
          onChange={(event) => {
            const { version: _version, ...rest } = filter;
            setFilter({ ...rest, ...(event.target.value !== '' && { version: Number(event.target.value) }) });
          }}
        >
          <option value="">All versions</option>
          {filter.version !== undefined && !versions.some((entry) => entry.version === filter.version) && (
            <option value={filter.version}>v{filter.version}</option>
          )}
          {[...versions].reverse().map((version) => (
            <option key={version.version} value={version.version}>
              v{version.version} ({version.runs} run{version.runs === 1 ? '' : 's'})
            </option>
          ))}
        </select>
      )}
      <input
        className="runs-search"
        type="search"
        placeholder="Run id starts with…"
        aria-label="Search by run id prefix"
        value={search}
        onChange={(event) => setSearch(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter') setFilter(withIdPrefix(filter, search.trim()));
        }}
      />
      {hasFilter(filter) && (
        <button type="button" onClick={() => setFilter({})}>
          Clear filters
        </button>
      )}
    </div>
  );
});

function withIdPrefix(filter: RunsFilter, idPrefix: string): RunsFilter {
  const { idPrefix: _previous, ...rest } = filter;
  return idPrefix === '' ? rest : { ...rest, idPrefix };
}
