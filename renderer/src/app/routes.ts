// The app's places, as URL hashes: one parser and one builder per place, so links, reloads and
// shared URLs agree. `#/runs?workflow=…` carries the runs list's filters.
import { runStatusSchema, type RunStatus } from '../../../engine/api/index.js';

export interface RunsFilter {
  workflowId?: string;
  version?: number;
  status?: RunStatus[];
  idPrefix?: string;
}

export type Route =
  | { page: 'home' }
  | { page: 'workflow'; workflowId: string; version?: number }
  | { page: 'credentials' }
  | { page: 'approvals' }
  | { page: 'runs'; filter: RunsFilter }
  | { page: 'run'; runId: string; step?: number };

const STATUSES: readonly RunStatus[] = runStatusSchema.options;

function positiveInt(text: string | null | undefined): number | undefined {
  if (text === null || text === undefined || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= 1 && Number.isSafeInteger(value) ? value : undefined;
}

/** The route of a hash; anything unknown is home. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'credentials') return { page: 'credentials' };
  if (parts[0] === 'approvals') return { page: 'approvals' };
  if (parts[0] === 'workflows' && parts[1]) {
    const version = parts[2] === 'versions' ? positiveInt(parts[3]) : undefined;
    return { page: 'workflow', workflowId: parts[1], ...(version !== undefined && { version }) };
  }
  if (parts[0] === 'runs' && parts[1]) {
    const step = parts[2] === 'step' ? positiveInt(parts[3]) : undefined;
    return { page: 'run', runId: parts[1], ...(step !== undefined && { step }) };
  }
  if (parts[0] === 'runs') {
    const params = new URLSearchParams(query);
    const workflowId = params.get('workflow') ?? undefined;
    const version = positiveInt(params.get('version'));
    const idPrefix = params.get('id') ?? undefined;
    const status = (params.get('status') ?? '')
      .split(',')
      .filter((entry): entry is RunStatus => (STATUSES as readonly string[]).includes(entry));
    return {
      page: 'runs',
      filter: {
        ...(workflowId && { workflowId }),
        ...(version !== undefined && { version }),
        ...(status.length > 0 && { status }),
        ...(idPrefix && { idPrefix }),
      },
    };
  }
  return { page: 'home' };
}

export function workflowHref(workflowId: string, version?: number): string {
  const base = `#/workflows/${encodeURIComponent(workflowId)}`;
  return version === undefined ? base : `${base}/versions/${version}`;
}

export function runsHref(filter: RunsFilter = {}): string {
  const params = new URLSearchParams();
  if (filter.workflowId) params.set('workflow', filter.workflowId);
  if (filter.version !== undefined) params.set('version', String(filter.version));
  if (filter.status && filter.status.length > 0) params.set('status', filter.status.join(','));
  if (filter.idPrefix) params.set('id', filter.idPrefix);
  const query = params.toString();
  return query ? `#/runs?${query}` : '#/runs';
}

/** A run's view; with `step`, opened at that step of its journal (a shareable time-travel link). */
export function runHref(runId: string, step?: number): string {
  const base = `#/runs/${encodeURIComponent(runId)}`;
  return step === undefined ? base : `${base}/step/${step}`;
}

export const CREDENTIALS_HREF = '#/credentials';

/** The inbox: everything waiting on a person. */
export function approvalsHref(): string {
  return '#/approvals';
}

/** Goes to a place; `replace` rewrites the current history entry (stepping through a run). */
export function navigate(href: string, { replace = false }: { replace?: boolean } = {}): void {
  if (replace) {
    window.history.replaceState(null, '', href);
    // replaceState does not fire hashchange; listeners of the route still need to hear of it.
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else window.location.hash = href;
}
