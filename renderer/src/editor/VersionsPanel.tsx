// Version history: each version with its note, time and the runs pinned to it (a link to them in
// the runs list); view a version on the canvas (also opened by `#/workflows/<id>/versions/<n>`);
// compare any two (or a version with the draft) through the diff's decorations; restore a version
// into the draft.
import { useCallback, useEffect, useState } from 'react';
import { diffWorkflows, type VersionSummary, type Workflow } from '../../../engine/api/index.js';
import { useApi, useEngineEvent } from '../app/client-context.js';
import { runsHref } from '../app/routes.js';
import '../runs/list/version-links.css';
import { errorText, useToast } from '../ui/toast.js';
import { diffDecorations, type DiffView } from './diff-decorations.js';
import { useEditor } from './editor-context.js';
import type { SidePanelProps } from './side-panels.js';

export function VersionsPanel({ workflowId, openVersion, close, showOnCanvas }: SidePanelProps) {
  const api = useApi();
  const toast = useToast();
  const { store } = useEditor();
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | 'draft'>('draft');
  const [diff, setDiff] = useState<DiffView | null>(null);
  /** The version shown on the canvas, read-only (clicked, or named by the URL). */
  const [viewed, setViewed] = useState<number | null>(null);

  const showDiff = (view: DiffView | null) => {
    setDiff(view);
    setViewed(null);
    showOnCanvas(
      view && { graph: view.after, decorations: [diffDecorations(view)], banner: <DiffBanner view={view} /> },
    );
  };

  /** Puts a version on the canvas, read-only, and selects it in the list. */
  const display = useCallback(
    (version: number, graph: Workflow) => {
      setDiff(null);
      setViewed(version);
      setFrom(version);
      showOnCanvas({
        graph,
        decorations: [],
        banner: (
          <div className="diff-banner" data-testid="version-banner">
            Version {version} (read-only) · <a href={runsHref({ workflowId, version })}>runs pinned to it</a>
          </div>
        ),
      });
    },
    [workflowId, showOnCanvas],
  );
  const showVersion = (version: number) =>
    api.getVersion({ workflowId, version }).then(
      ({ graph }) => display(version, graph),
      (error: unknown) => toast(errorText(error), 'error'),
    );
  // The URL names a version: select it and show it.
  useEffect(() => {
    if (openVersion === undefined) return;
    let live = true;
    api.getVersion({ workflowId, version: openVersion }).then(
      ({ graph }) => live && display(openVersion, graph),
      (error: unknown) => live && toast(errorText(error), 'error'),
    );
    return () => {
      live = false;
    };
  }, [api, workflowId, openVersion, display, toast]);

  const refresh = useCallback(() => {
    api.listVersions({ workflowId: workflowId }).then(
      (list) => {
        setVersions(list);
        setFrom((current) => current ?? list.at(-1)?.version ?? null);
      },
      () => {},
    );
  }, [api, workflowId]);
  useEffect(refresh, [refresh]);
  useEngineEvent(
    'workflowsChanged',
    useCallback((data: { workflowId: string }) => data.workflowId === workflowId && refresh(), [workflowId, refresh]),
  );
  useEngineEvent('runsChanged', refresh);

  const compare = async () => {
    if (from === null) return;
    try {
      const before = (await api.getVersion({ workflowId: workflowId, version: from })).graph;
      const after =
        to === 'draft' ? store.getState().graph : (await api.getVersion({ workflowId: workflowId, version: to })).graph;
      showDiff({ from, to, before, after, diff: diffWorkflows(before, after) });
    } catch (error) {
      toast(errorText(error), 'error');
    }
  };

  const restore = async (version: number) => {
    try {
      const { graph } = await api.getVersion({ workflowId: workflowId, version });
      // Restoring is an edit of the draft (undoable); the version itself never changes.
      store.getState().apply({ type: 'replace', graph: { ...graph, id: workflowId } });
      showDiff(null);
      toast(`Version ${version} restored into the draft. Save a version to keep it.`, 'success');
    } catch (error) {
      toast(errorText(error), 'error');
    }
  };

  return (
    <aside className="versions" aria-label="Versions" data-testid="versions-panel">
      <div className="panel-head">
        <h2>Versions</h2>
        <button type="button" onClick={close} aria-label="Close versions">
          ×
        </button>
      </div>
      <div className="compare">
        <label>
          Compare
          <select
            value={from ?? ''}
            onChange={(event) => setFrom(Number(event.target.value))}
            aria-label="Compare from"
          >
            <VersionOptions versions={versions} />
          </select>
        </label>
        <label>
          with
          <select
            value={String(to)}
            onChange={(event) => setTo(event.target.value === 'draft' ? 'draft' : Number(event.target.value))}
            aria-label="Compare with"
          >
            <option value="draft">draft</option>
            <VersionOptions versions={versions} />
          </select>
        </label>
        <button type="button" className="primary" disabled={from === null} onClick={() => void compare()}>
          Show diff
        </button>
        {diff && (
          <button type="button" onClick={() => showDiff(null)}>
            Close diff
          </button>
        )}
      </div>
      {diff && <DiffSummary view={diff} />}
      <ol className="version-list" reversed>
        {[...versions].reverse().map((version) => (
          <li
            key={version.version}
            data-testid="version-item"
            data-version={version.version}
            className={viewed === version.version ? 'active' : undefined}
            aria-current={viewed === version.version ? 'true' : undefined}
          >
            <div className="version-head">
              <button
                type="button"
                className="version-view"
                onClick={() => {
                  if (viewed !== version.version) return void showVersion(version.version);
                  setViewed(null);
                  showOnCanvas(null);
                }}
                aria-pressed={viewed === version.version}
                title={viewed === version.version ? 'Back to the draft' : 'Show this version on the canvas (read-only)'}
              >
                <strong>v{version.version}</strong>
              </button>
              <time dateTime={new Date(version.createdAt).toISOString()}>
                {new Date(version.createdAt).toLocaleString()}
              </time>
            </div>
            <p className={version.note ? 'note' : 'note muted'}>{version.note ?? 'No note'}</p>
            <div className="version-foot">
              <a
                href={runsHref({ workflowId, version: version.version })}
                data-testid="version-runs"
                title={`The runs pinned to v${version.version}`}
              >
                {version.runs} run{version.runs === 1 ? '' : 's'} pinned
              </a>
              <button type="button" onClick={() => void restore(version.version)}>
                Restore
              </button>
            </div>
          </li>
        ))}
        {versions.length === 0 && <li className="muted">No versions yet. “Save version” freezes the draft.</li>}
      </ol>
    </aside>
  );
}

function DiffBanner({ view }: { view: DiffView }) {
  return (
    <div className="diff-banner">
      Diff v{view.from} → {view.to === 'draft' ? 'draft' : `v${view.to}`} (read-only):{' '}
      <span className="legend added">added</span>
      <span className="legend changed">changed</span>
      <span className="legend removed">removed</span>
    </div>
  );
}

function VersionOptions({ versions }: { versions: VersionSummary[] }) {
  return versions.map((version) => (
    <option key={version.version} value={version.version}>
      v{version.version}
    </option>
  ));
}

function DiffSummary({ view }: { view: DiffView }) {
  const { diff } = view;
  const [selected, setSelected] = useState<string | null>(diff.nodes.changed[0]?.nodeId ?? null);
  const change = diff.nodes.changed.find((entry) => entry.nodeId === selected);
  const nameOf = (id: string, graph: Workflow) => graph.nodes.find((node) => node.id === id)?.name ?? id;
  return (
    <div className="diff-summary" data-testid="diff-summary">
      <p>
        v{view.from} → {view.to === 'draft' ? 'draft' : `v${view.to}`}:{' '}
        <span className="diff-added-text">{diff.nodes.added.length} added</span>,{' '}
        <span className="diff-removed-text">{diff.nodes.removed.length} removed</span>,{' '}
        <span className="diff-changed-text">{diff.nodes.changed.length} changed</span> nodes; {diff.edges.added.length}{' '}
        connections added, {diff.edges.removed.length} removed.
      </p>
      {diff.nodes.changed.length > 0 && (
        <ul className="diff-nodes">
          {diff.nodes.changed.map((entry) => (
            <li key={entry.nodeId}>
              <button
                type="button"
                className={entry.nodeId === selected ? 'active' : undefined}
                onClick={() => setSelected(entry.nodeId)}
              >
                {nameOf(entry.nodeId, view.after)} ({entry.fields.length} field{entry.fields.length === 1 ? '' : 's'})
              </button>
            </li>
          ))}
        </ul>
      )}
      {change && (
        <table className="field-diff" data-testid="field-diff">
          <thead>
            <tr>
              <th>Field</th>
              <th>Before</th>
              <th>After</th>
            </tr>
          </thead>
          <tbody>
            {change.fields.map((field) => (
              <tr key={field.path}>
                <td>
                  <code>{field.path}</code>
                </td>
                <td className="before">
                  <pre>{show(field.before)}</pre>
                </td>
                <td className="after">
                  <pre>{show(field.after)}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function show(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
