// The run view (`#/runs/<runId>`, `#/runs/<runId>/step/<k>`): the run's pinned version on a
// read-only canvas with every node's status as of step k, a scrubber to move k (keys, buttons,
// slider; k is in the URL), the inspector of one node at k, and the journal as a timeline and a
// Gantt. Stepping never touches the network: states come from the RunTimeline, decorations are
// memoized per node. While the run goes on, new events are appended live (use-run-journal).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  activationsOf,
  type JournalEvent,
  type NodeType,
  type ReplayCheck,
  type RunDetail,
} from '../../../engine/api/index.js';
import { navigate, parseRoute, runHref } from '../app/routes.js';
import { ReadOnlyCanvas } from '../editor/Canvas.js';
import { createCatalog } from '../editor/catalog.js';
import type { DecorationProvider } from '../editor/decorations.js';
import { Gantt } from './Gantt.js';
import { Timeline } from './Timeline.js';
import { ForkDialog, type ForkableNode } from './view/ForkDialog.js';
import { RunHeader } from './view/RunHeader.js';
import { RunInspector } from './view/RunInspector.js';
import {
  changedParts,
  indexOfSeq,
  inheritancesOf,
  landmarksOf,
  seeksAround,
  StepViews,
  type NodePart,
} from './view/run-step.js';
import { Scrubber } from './view/Scrubber.js';
import { useRunJournal, type RunJournal } from './view/use-run-journal.js';
import { useNow } from './view/use-now.js';
import { useStepKeys } from './view/use-step-keys.js';
import './run-view.css';

/** URL updates wait for the user to pause: holding → should not rewrite history at key-repeat rate. */
const URL_DELAY_MS = 150;

export function RunView({
  runId,
  step,
  nodeTypes,
}: {
  runId: string;
  step: number | undefined;
  nodeTypes: NodeType[];
}) {
  const journal = useRunJournal(runId);
  if (journal.phase === 'loading')
    return (
      <div className="run-view loading" data-testid="run-view">
        Loading run {runId}…
      </div>
    );
  if (journal.phase === 'error')
    return (
      <div className="run-view empty-state" data-testid="run-view">
        <h1>Run {runId}</h1>
        <p className="run-failure">Could not open this run: {journal.message}</p>
      </div>
    );
  return <LoadedRunView journal={journal} step={step} nodeTypes={nodeTypes} onChanged={journal.refresh} />;
}

function usePanel(name: string, initial: boolean): [boolean, () => void] {
  const key = `stepwise.run-view.${name}`;
  const [open, setOpen] = useState(() => {
    const stored = window.localStorage.getItem(key);
    return stored === null ? initial : stored === 'open';
  });
  const toggle = useCallback(() => {
    setOpen((was) => {
      window.localStorage.setItem(key, was ? 'closed' : 'open');
      return !was;
    });
  }, [key]);
  return [open, toggle];
}

function LoadedRunView({
  journal,
  step,
  nodeTypes,
  onChanged,
}: {
  journal: RunJournal;
  step: number | undefined;
  nodeTypes: NodeType[];
  onChanged: () => void;
}) {
  const { run, version, events, timeline, revision } = journal;
  const runId = run.runId;
  const lastSeq = events.at(-1)?.seq ?? 0;
  const clamp = useCallback((seq: number) => Math.max(lastSeq > 0 ? 1 : 0, Math.min(lastSeq, seq)), [lastSeq]);

  const [position, setPosition] = useState(() => clamp(step ?? lastSeq));
  const [seenLast, setSeenLast] = useState(lastSeq);
  const [trackedLast, setTrackedLast] = useState(lastSeq);
  // New events: a user at the latest step follows them; one looking at an earlier step stays there.
  if (trackedLast !== lastSeq) {
    setTrackedLast(lastSeq);
    if (position === trackedLast) {
      setPosition(lastSeq);
      setSeenLast(lastSeq);
    }
  }

  const seek = useCallback(
    (seq: number) => {
      const target = clamp(seq);
      setPosition(target);
      if (target === lastSeq) setSeenLast(lastSeq);
    },
    [clamp, lastSeq],
  );
  useStepKeys(position, lastSeq, seek);

  // The URL follows the position (no step = the latest); a URL changed from outside moves it.
  const written = useRef<string | null>(null);
  useEffect(() => {
    const href = runHref(runId, position === lastSeq ? undefined : position);
    if (window.location.hash === href) return;
    const timer = window.setTimeout(() => {
      written.current = href;
      navigate(href, { replace: true });
    }, URL_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [runId, position, lastSeq]);
  useEffect(() => {
    const onHash = () => {
      if (written.current === window.location.hash) return;
      const route = parseRoute(window.location.hash);
      if (route.page === 'run' && route.runId === runId) seek(route.step ?? Number.MAX_SAFE_INTEGER);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [runId, seek]);

  const catalog = useMemo(() => createCatalog(nodeTypes), [nodeTypes]);
  const nodeNames = useMemo(
    () => new Map(version.graph.nodes.map((node) => [node.id, node.name ?? node.id])),
    [version.graph],
  );
  const views = useMemo(() => new StepViews(version.graph), [version.graph]);
  const [verify, setVerify] = useState<ReplayCheck | null>(null);
  const diverged = verify?.divergence?.nodeId ?? null;
  // A divergence is shown where it happened: the step moves to it, its node is marked.
  const onVerified = useCallback(
    (check: ReplayCheck | null) => {
      setVerify(check);
      if (check?.divergence) seek(check.divergence.seq);
    },
    [seek],
  );

  const index = indexOfSeq(events, position);
  const event: JournalEvent | undefined = index > 0 ? events[index - 1] : undefined;
  const view = useMemo(
    () => views.at(timeline.at(index), timeline.at(index - 1), event, diverged),
    [views, timeline, index, event, diverged],
  );
  const providers = useMemo<DecorationProvider[]>(() => [view.status, view.marks], [view]);

  // Failure and wait steps, to jump between them, and the activations a fork inherited (their
  // idempotency key is the origin's): one pass each, again only when the journal grows.
  // `revision` says the (appended-in-place) events array grew.
  /* eslint-disable react-hooks/exhaustive-deps */
  const landmarks = useMemo(() => landmarksOf(events), [events, revision]);
  const inheritances = useMemo(() => inheritancesOf(events), [events, revision]);
  /* eslint-enable react-hooks/exhaustive-deps */
  const seeks = useMemo(() => seeksAround(landmarks, position), [landmarks, position]);

  // The inspected node: the one clicked, else the one the step's event is about (or the last one before it).
  const [pinned, setPinned] = useState<string | null>(null);
  const autoNode = useMemo(() => {
    for (let at = index - 1; at >= 0; at -= 1) {
      const nodeId = (events[at] as JournalEvent).nodeId;
      if (nodeId !== null && nodeNames.has(nodeId)) return nodeId;
    }
    return version.graph.nodes[0]?.id ?? null;
  }, [events, index, nodeNames, version.graph]);
  const shownNode = pinned ?? autoNode;
  const changed = useMemo(() => (shownNode ? changedParts(view, shownNode) : NOTHING_CHANGED), [view, shownNode]);
  const shownActivation = shownNode ? view.latest.get(shownNode) : undefined;
  const inherited = shownActivation ? inheritances.get(shownActivation.activationId) : undefined;
  const follow = useCallback(() => setPinned(null), []);
  const childRuns = useMemo(
    () => (shownNode ? run.children.filter((child) => child.nodeId === shownNode) : NO_CHILDREN),
    [run.children, shownNode],
  );

  const [inspectorOpen, toggleInspector] = usePanel('inspector', true);
  const [bottomOpen, toggleBottom] = usePanel('bottom', true);
  const [tab, setTab] = useState<'timeline' | 'gantt'>('timeline');
  const [forking, setForking] = useState(false);

  const completed = useMemo<ForkableNode[]>(
    () =>
      version.graph.nodes.flatMap((node) => {
        const at = view.nodes[node.id];
        return at?.status === 'completed' ? [{ id: node.id, name: node.name ?? node.id, output: at.output }] : [];
      }),
    [version.graph, view],
  );
  const activations = useMemo(() => (tab === 'gantt' ? activationsOf(view.state) : []), [tab, view]);
  const live = run.status === 'running' || run.status === 'waiting' || run.status === 'compensating';
  const now = useNow(live && tab === 'gantt' && bottomOpen);

  return (
    <div className="run-view" data-testid="run-view" data-run-id={runId} data-position={position}>
      <RunHeader
        run={run}
        version={version}
        position={position}
        verify={verify}
        onVerified={onVerified}
        onFork={() => setForking(true)}
        onChanged={onChanged}
      />
      <Scrubber
        position={position}
        lastSeq={lastSeq}
        event={event}
        nodeName={event?.nodeId ? (nodeNames.get(event.nodeId) ?? event.nodeId) : null}
        seeks={seeks}
        unseen={position < lastSeq ? lastSeq - seenLast : 0}
        onSeek={seek}
      />
      <div className={`run-body${inspectorOpen ? '' : ' run-body-wide'}`}>
        <div className="run-main">
          <div className="run-canvas" data-testid="run-canvas">
            <ReadOnlyCanvas graph={version.graph} decorations={providers} catalog={catalog} onNodeClick={setPinned} />
            <button
              type="button"
              className="panel-toggle panel-toggle-inspector"
              aria-expanded={inspectorOpen}
              aria-label={inspectorOpen ? 'Hide the inspector' : 'Show the inspector'}
              onClick={toggleInspector}
            >
              {inspectorOpen ? '⟩' : '⟨'}
            </button>
          </div>
          <section className={`run-bottom${bottomOpen ? '' : ' run-bottom-closed'}`} aria-label="Journal">
            <div className="run-tabs" role="tablist">
              {(['timeline', 'gantt'] as const).map((name) => (
                <button
                  key={name}
                  type="button"
                  role="tab"
                  aria-selected={bottomOpen && tab === name}
                  className={bottomOpen && tab === name ? 'active' : ''}
                  onClick={() => {
                    setTab(name);
                    if (!bottomOpen) toggleBottom();
                  }}
                >
                  {name === 'timeline' ? 'Timeline' : 'Gantt'}
                </button>
              ))}
              <button type="button" className="link run-tabs-toggle" aria-expanded={bottomOpen} onClick={toggleBottom}>
                {bottomOpen ? 'Hide' : 'Show'}
              </button>
            </div>
            {bottomOpen && (
              <div className="run-bottom-body">
                {tab === 'timeline' ? (
                  <Timeline events={events} position={position} nodeNames={nodeNames} onSeek={seek} />
                ) : (
                  <Gantt
                    activations={activations}
                    startedAt={view.state.startedAt}
                    endAt={live && position === lastSeq ? now : (event?.at ?? view.state.startedAt)}
                    nodeNames={nodeNames}
                    selectedNodeId={shownNode}
                    onSelectNode={setPinned}
                  />
                )}
              </div>
            )}
          </section>
        </div>
        {inspectorOpen && (
          <aside className="run-side" aria-label="Inspector">
            <RunInspector
              runId={runId}
              position={position}
              nodeId={shownNode}
              nodeName={shownNode ? (nodeNames.get(shownNode) ?? shownNode) : null}
              node={shownNode ? view.nodes[shownNode] : undefined}
              activation={shownActivation}
              changed={changed}
              inherited={inherited && inherited.inheritedAt <= position ? inherited : undefined}
              event={event}
              pinned={pinned !== null}
              onFollow={follow}
              onKeep={setPinned}
              latest={position === lastSeq}
              childRuns={childRuns}
            />
          </aside>
        )}
      </div>
      {forking && <ForkDialog run={run} position={position} completed={completed} onClose={() => setForking(false)} />}
    </div>
  );
}

const NOTHING_CHANGED: ReadonlySet<NodePart> = new Set();
const NO_CHILDREN: RunDetail['children'] = [];
