// The editor of one workflow: toolbar, palette, canvas, inspector, problems and versions.
// Owns the workflow's store, its autosave, its validation and the keyboard shortcuts.
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type NodeType, type Problem, type WorkflowDetail } from '../../../engine/api/index.js';
import { useApi, useClientStatus, useEngineEvent } from '../app/client-context.js';
import { desktop, type MenuCommand } from '../app/platform.js';
import { Icon } from '../ui/Icon.js';
import { Modal, PromptModal } from '../ui/Modal.js';
import { errorText, useToast } from '../ui/toast.js';
import { Canvas, type CanvasDecorations } from './Canvas.js';
import { createCatalog, type NodeCatalog } from './catalog.js';
import { EditorContext, useEditor, useEditorState } from './editor-context.js';
import { createEditorStore, type EditorStore } from './editor-store.js';
import { copySelection, newNode, parseClip, pasteClip } from './graph-edits.js';
import { Inspector } from './Inspector.js';
import { layoutPositions } from './layout.js';
import { readBackup } from './local-backup.js';
import { Palette } from './Palette.js';
import { ProblemsPanel } from './ProblemsPanel.js';
import { isTypingTarget, SHORTCUTS, type ShortcutAction } from './shortcuts.js';
import { useAutosave, type SaveState } from './use-autosave.js';
import { VersionsPanel, type DiffView } from './VersionsPanel.js';

const CLIPBOARD_KEY = 'stepwise.clipboard';

interface Loaded {
  detail: WorkflowDetail;
  store: EditorStore;
  startsDirty: boolean;
}

export function Editor({
  workflowId,
  nodeTypes,
  onClosed,
}: {
  workflowId: string;
  nodeTypes: NodeType[];
  onClosed: () => void;
}) {
  const api = useApi();
  const toast = useToast();
  const status = useClientStatus();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const catalog = useMemo(() => createCatalog(nodeTypes), [nodeTypes]);

  useEffect(() => {
    if (loaded || status !== 'ready') return;
    let cancelled = false;
    api.getWorkflow({ workflowId }).then(
      (detail) => {
        if (cancelled) return;
        performance.mark('stepwise:workflow-loaded');
        const backup = readBackup(workflowId);
        const startsDirty = backup !== null && JSON.stringify(backup) !== JSON.stringify(detail.draft);
        setLoaded({ detail, store: createEditorStore(startsDirty ? backup : detail.draft), startsDirty });
      },
      (error: unknown) => {
        if (cancelled) return;
        if (error instanceof ApiError && error.code === 'not-found') onClosed();
        toast(errorText(error), 'error');
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, loaded, onClosed, status, toast, workflowId]);

  if (!loaded) return <div className="loading">Loading workflow…</div>;
  return (
    <EditorContext.Provider value={{ store: loaded.store, catalog }}>
      <ReactFlowProvider>
        <EditorView detail={loaded.detail} startsDirty={loaded.startsDirty} />
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}

function EditorView({ detail, startsDirty }: { detail: WorkflowDetail; startsDirty: boolean }) {
  const api = useApi();
  const toast = useToast();
  const flow = useReactFlow();
  const { store, catalog } = useEditor();
  const graph = useEditorState((state) => state.graph);
  const canUndo = useEditorState((state) => state.past.length > 0);
  const canRedo = useEditorState((state) => state.future.length > 0);
  const [draftChanged, setDraftChanged] = useState(detail.draftChanged);
  const autosave = useAutosave(store, api, { startsDirty, onSaved: setDraftChanged });
  const [problems, setProblems] = useState<Problem[]>([]);
  const [problemsOpen, setProblemsOpen] = useState(true);
  const [panel, setPanel] = useState<'inspector' | 'versions'>('inspector');
  const [diff, setDiff] = useState<DiffView | null>(null);
  const [dialog, setDialog] = useState<'save-version' | 'help' | null>(null);
  const [lastRun, setLastRun] = useState<{ runId: string; status: string; version: number } | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  // Validation by the engine's own validator, shortly after each change.
  useEffect(() => {
    const timer = setTimeout(() => {
      api.validate({ workflow: graph }).then(
        (result) => setProblems(result.problems),
        () => {},
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [api, graph]);

  // Changes made elsewhere (rename from the list, another window) are loaded when there is nothing unsaved here.
  useEngineEvent(
    'workflowsChanged',
    useCallback(
      (data: { workflowId: string }) => {
        if (data.workflowId !== detail.id || autosave.state !== 'saved') return;
        api.getWorkflow({ workflowId: detail.id }).then(
          (fresh) => {
            if (
              store.getState().gestureStart === null &&
              JSON.stringify(fresh.draft) !== JSON.stringify(store.getState().graph)
            )
              store.getState().load(fresh.draft);
            setDraftChanged(fresh.draftChanged);
          },
          () => {},
        );
      },
      [api, autosave.state, detail.id, store],
    ),
  );
  useEngineEvent(
    'runsChanged',
    useCallback((data: { runs: { runId: string; status: string }[] }) => {
      setLastRun((run) => {
        const change = run && data.runs.find((entry) => entry.runId === run.runId);
        return change ? { ...run, status: change.status } : run;
      });
    }, []),
  );

  const act = useCallback(
    async (action: ShortcutAction | MenuCommand) => {
      const state = store.getState();
      const writeClip = () => {
        const clip = copySelection(state.graph, state.selectedNodes);
        if (clip.nodes.length === 0) return false;
        const text = JSON.stringify(clip);
        localStorage.setItem(CLIPBOARD_KEY, text);
        void navigator.clipboard?.writeText(text).catch(() => {});
        return true;
      };
      switch (action) {
        case 'undo':
          return state.undo();
        case 'redo':
          return state.redo();
        case 'copy':
          if (writeClip()) toast(`Copied ${state.selectedNodes.length} node(s)`);
          return;
        case 'cut':
          if (writeClip()) state.apply({ type: 'remove', nodeIds: state.selectedNodes, edgeIds: [] });
          return;
        case 'paste':
        case 'duplicate': {
          const clip =
            action === 'paste'
              ? parseClip(localStorage.getItem(CLIPBOARD_KEY))
              : copySelection(state.graph, state.selectedNodes);
          if (!clip || clip.nodes.length === 0) return;
          const pasted = pasteClip(state.graph, clip, { x: 40, y: 40 });
          state.apply({ type: 'add', ...pasted });
          state.select(
            pasted.nodes.map((node) => node.id),
            [],
          );
          return;
        }
        case 'select-all':
          return state.select(
            state.graph.nodes.map((node) => node.id),
            state.graph.edges.map((edge) => edge.id),
          );
        case 'delete':
          if (state.selectedNodes.length + state.selectedEdges.length === 0) return;
          return state.apply({ type: 'remove', nodeIds: state.selectedNodes, edgeIds: state.selectedEdges });
        case 'save-version':
          return setDialog('save-version');
        case 'layout': {
          const positions = await layoutPositions(state.graph, state.measured);
          store.getState().apply({ type: 'move', positions });
          await flow.fitView({ padding: 0.2, duration: 200, maxZoom: 1 });
          return;
        }
        case 'fit':
          return void flow.fitView({ padding: 0.2, duration: 200, maxZoom: 1 });
        case 'zoom-in':
          return void flow.zoomIn({ duration: 150 });
        case 'zoom-out':
          return void flow.zoomOut({ duration: 150 });
        case 'search-nodes':
          return searchRef.current?.focus();
        case 'help':
          return setDialog('help');
        case 'deselect':
          return state.select([], []);
        default:
          return;
      }
    },
    [flow, store, toast],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTypingTarget(event.target) || dialog !== null) return;
      const shortcut = SHORTCUTS.find((candidate) => candidate.match(event));
      if (!shortcut) return;
      event.preventDefault();
      void act(shortcut.action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [act, dialog]);

  useEffect(
    () =>
      desktop?.onMenu((command) => {
        const typing = isTypingTarget(document.activeElement);
        // In a text field the native editing commands apply; on the canvas, ours.
        if (typing && ['undo', 'redo', 'cut', 'copy', 'paste', 'select-all'].includes(command))
          document.execCommand(command === 'select-all' ? 'selectAll' : command);
        else void act(command);
      }),
    [act],
  );

  const addNode = useCallback(
    (type: NodeType) => {
      const state = store.getState();
      const anchor = state.graph.nodes.find((node) => node.id === state.selectedNodes.at(-1));
      const center = flow.screenToFlowPosition({ x: window.innerWidth / 2, y: window.innerHeight / 2 });
      const position = anchor
        ? { x: anchor.position.x + 280, y: anchor.position.y }
        : { x: Math.round(center.x), y: Math.round(center.y) };
      const node = newNode(state.graph, type, position);
      state.apply({ type: 'add', nodes: [node], edges: [] });
      state.select([node.id], []);
    },
    [flow, store],
  );

  const saveVersion = async (note: string) => {
    setDialog(null);
    try {
      await autosave.flush();
      const saved = await api.saveVersion({ workflowId: detail.id, ...(note !== '' && { note }) });
      setDraftChanged(false);
      toast(saved.created ? `Saved version ${saved.version}` : `No changes since version ${saved.version}`, 'success');
    } catch (error) {
      toast(
        error instanceof ApiError && error.code === 'invalid'
          ? `Cannot save a version: ${firstErrors(error)}`
          : errorText(error),
        'error',
      );
      if (error instanceof ApiError && error.code === 'invalid') setProblemsOpen(true);
    }
  };

  const runDraft = async () => {
    try {
      await autosave.flush();
      const started = await api.runDraft({ workflowId: detail.id });
      setDraftChanged(false);
      setLastRun({ runId: started.run.runId, status: started.run.status, version: started.run.version });
      toast(
        `Run ${started.run.runId.slice(0, 8)} started on version ${started.run.version}${started.versionCreated ? ' (saved from the draft)' : ''}`,
        'success',
      );
    } catch (error) {
      toast(
        error instanceof ApiError && error.code === 'invalid' ? `Cannot run: ${firstErrors(error)}` : errorText(error),
        'error',
      );
    }
  };

  const errors = problems.filter((problem) => problem.severity === 'error').length;
  return (
    <div className="editor" data-testid="editor">
      <header className="toolbar">
        <div className="toolbar-title">
          <h1 data-testid="workflow-name">{graph.name}</h1>
          <SaveIndicator state={autosave.state} draftChanged={draftChanged} />
        </div>
        <div className="toolbar-actions">
          {(
            [
              ['undo', 'undo', 'Undo (Ctrl/⌘ Z)', !canUndo],
              ['redo', 'redo', 'Redo (Ctrl/⌘ Shift Z)', !canRedo],
              ['layout', 'layout', 'Auto-layout (Shift L)', false],
              ['fit', 'fit', 'Zoom to fit (1)', false],
              ['help', 'keyboard', 'Keyboard shortcuts (?)', false],
            ] as const
          ).map(([action, icon, title, disabled]) => (
            <button
              key={action}
              type="button"
              onClick={() => void act(action)}
              disabled={disabled}
              title={title}
              aria-label={title.replace(/ \(.*\)$/, '')}
            >
              <Icon name={icon} />
            </button>
          ))}
          <span className="separator" />
          <button
            type="button"
            className={panel === 'versions' ? 'active' : undefined}
            onClick={() => setPanel(panel === 'versions' ? 'inspector' : 'versions')}
            title="Version history"
          >
            <Icon name="history" /> Versions
          </button>
          <button type="button" onClick={() => setDialog('save-version')} title="Save version (Ctrl/⌘ S)">
            <Icon name="save" /> Save version
          </button>
          <button
            type="button"
            className="primary"
            onClick={() => void runDraft()}
            disabled={errors > 0}
            title={errors > 0 ? 'Fix the problems first' : 'Run the draft'}
          >
            <Icon name="run" /> Run
          </button>
        </div>
      </header>
      {lastRun && (
        <div className="run-strip" data-testid="last-run">
          Last run <code>{lastRun.runId.slice(0, 12)}</code> on v{lastRun.version}:{' '}
          <strong className={`status-${lastRun.status}`}>{lastRun.status}</strong>
        </div>
      )}
      <div className="editor-body">
        <Palette onAdd={addNode} searchRef={searchRef} />
        <div className="canvas-column">
          {diff ? <DiffCanvas view={diff} catalog={catalog} /> : <Canvas problems={problems} />}
          <ProblemsPanel problems={problems} open={problemsOpen} onToggle={() => setProblemsOpen(!problemsOpen)} />
        </div>
        {panel === 'versions' ? (
          <VersionsPanel
            workflowId={detail.id}
            diff={diff}
            onDiff={setDiff}
            onClose={() => {
              setPanel('inspector');
              setDiff(null);
            }}
          />
        ) : (
          <Inspector problems={problems} />
        )}
      </div>
      {dialog === 'save-version' && (
        <PromptModal
          title="Save version"
          label="What changed? (optional note)"
          confirm="Save version"
          multiline
          allowEmpty
          onClose={() => setDialog(null)}
          onSubmit={(note) => void saveVersion(note)}
        />
      )}
      {dialog === 'help' && (
        <Modal title="Keyboard shortcuts" onClose={() => setDialog(null)}>
          <table className="shortcuts" data-testid="shortcuts-help">
            <tbody>
              {SHORTCUTS.map((shortcut) => (
                <tr key={shortcut.action}>
                  <td>
                    <kbd>{shortcut.keys}</kbd>
                  </td>
                  <td>{shortcut.description}</td>
                </tr>
              ))}
              <tr>
                <td>
                  <kbd>Drag</kbd> · <kbd>Shift click</kbd>
                </td>
                <td>Box-select · add to the selection</td>
              </tr>
              <tr>
                <td>
                  <kbd>Space drag</kbd> · <kbd>scroll</kbd> · <kbd>Ctrl scroll</kbd>
                </td>
                <td>Pan · pan · zoom</td>
              </tr>
            </tbody>
          </table>
        </Modal>
      )}
    </div>
  );
}

/** A read-only canvas of the diff's "after" graph, with removed nodes as ghosts. */
function DiffCanvas({ view, catalog }: { view: DiffView; catalog: NodeCatalog }) {
  const store = useMemo(() => createEditorStore(view.after), [view.after]);
  const decorations = useMemo<CanvasDecorations>(() => {
    const nodes: CanvasDecorations['nodes'] = {};
    for (const id of view.diff.nodes.added) nodes[id] = 'added';
    for (const change of view.diff.nodes.changed) nodes[change.nodeId] = 'changed';
    for (const id of view.diff.nodes.moved) nodes[id] = 'moved';
    const edges: CanvasDecorations['edges'] = {};
    for (const id of view.diff.edges.added) edges[id] = 'added';
    const removedNodes = new Set(view.diff.nodes.removed);
    const removedEdges = new Set(view.diff.edges.removed);
    return {
      nodes,
      edges,
      ghosts: {
        nodes: view.before.nodes.filter((node) => removedNodes.has(node.id)),
        edges: view.before.edges.filter(
          (edge) => removedEdges.has(edge.id) && !view.after.edges.some((other) => other.id === edge.id),
        ),
      },
    };
  }, [view]);
  return (
    <EditorContext.Provider value={{ store, catalog }}>
      <ReactFlowProvider>
        <div className="diff-banner">
          Diff v{view.from} → {view.to === 'draft' ? 'draft' : `v${view.to}`} (read-only):{' '}
          <span className="legend added">added</span>
          <span className="legend changed">changed</span>
          <span className="legend removed">removed</span>
        </div>
        <Canvas problems={[]} readOnly decorations={decorations} />
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}

function SaveIndicator({ state, draftChanged }: { state: SaveState; draftChanged: boolean }) {
  const text: Record<SaveState, string> = {
    saved: draftChanged ? 'Draft saved · unversioned changes' : 'Saved · matches the latest version',
    saving: 'Saving…',
    pending: 'Editing…',
    offline: 'Offline · kept locally, saves when reconnected',
    error: 'Not saved',
  };
  return (
    <span className={`save-state save-${state}`} data-testid="save-state" data-state={state}>
      {text[state]}
    </span>
  );
}

function firstErrors(error: ApiError): string {
  const errors = error.problems.filter((problem) => problem.severity === 'error');
  return errors.length === 0 ? error.message : `${errors.length} problem(s): ${errors[0]?.message ?? ''}`;
}
