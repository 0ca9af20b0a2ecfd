// The editor of one workflow: loads it into its own store, then lays out the toolbar, palette,
// canvas, problems and the open side panel. The parts live next door: commands in
// useEditorCommands (from the command table), validation in useValidation, panels in side-panels,
// canvas decorations in decorations.
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type NodeType, type WorkflowDetail } from '../../../engine/api/index.js';
import { useApi, useClientStatus } from '../app/client-context.js';
import { useCommandHandlers } from '../commands/useCommandHandlers.js';
import { navigate, runHref } from '../app/routes.js';
import { Icon } from '../ui/Icon.js';
import { PromptModal } from '../ui/Modal.js';
import { errorText, useToast } from '../ui/toast.js';
import { LAYOUT_KEYS, usePersistentFlag } from '../ui/usePersistentFlag.js';
import { Canvas, ReadOnlyCanvas } from './Canvas.js';
import { createCatalog } from './catalog.js';
import type { CanvasOverlay } from './decorations.js';
import { EditorContext, useEditor, useEditorState } from './editor-context.js';
import { createEditorStore, type EditorStore } from './editor-store.js';
import { newNode } from './graph-edits.js';
import { readBackup } from './local-backup.js';
import { Palette } from './Palette.js';
import { ProblemsPanel } from './ProblemsPanel.js';
import { RunDialog } from './RunDialog.js';
import { ShortcutsHelp } from './ShortcutsHelp.js';
import { DEFAULT_PANEL, SIDE_PANELS, type SidePanelId } from './side-panels.js';
import { Toolbar } from './Toolbar.js';
import { useAutosave } from './use-autosave.js';
import { useDraftActions } from './useDraftActions.js';
import { useEditorCommands, type EditorDialog } from './useEditorCommands.js';
import { useExternalEdits } from './useExternalEdits.js';
import { useValidation } from './useValidation.js';

interface Loaded {
  detail: WorkflowDetail;
  store: EditorStore;
  startsDirty: boolean;
}

export function Editor({
  workflowId,
  openVersion,
  nodeTypes,
  onClosed,
}: {
  workflowId: string;
  /** Opens the versions panel showing this version (`#/workflows/<id>/versions/<n>`). */
  openVersion?: number | undefined;
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
        <EditorView detail={loaded.detail} startsDirty={loaded.startsDirty} openVersion={openVersion} />
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}

function EditorView({
  detail,
  startsDirty,
  openVersion,
}: {
  detail: WorkflowDetail;
  startsDirty: boolean;
  openVersion: number | undefined;
}) {
  const api = useApi();
  const flow = useReactFlow();
  const { store } = useEditor();
  const graph = useEditorState((state) => state.graph);
  const [draftChanged, setDraftChanged] = useState(detail.draftChanged);
  const autosave = useAutosave(store, api, { startsDirty, onSaved: setDraftChanged });
  useExternalEdits(store, detail.id, autosave.state, setDraftChanged);
  const problems = useValidation(graph);
  const errors = problems.filter((problem) => problem.severity === 'error').length;
  const [problemsOpen, setProblemsOpen] = useState(true);
  const [panelId, setPanelId] = useState<SidePanelId>(openVersion === undefined ? DEFAULT_PANEL : 'versions');
  // A link to another version of this workflow opens the versions panel again (render-time reset).
  const [shownVersion, setShownVersion] = useState(openVersion);
  if (shownVersion !== openVersion) {
    setShownVersion(openVersion);
    if (openVersion !== undefined) setPanelId('versions');
  }
  const [overlay, setOverlay] = useState<CanvasOverlay | null>(null);
  const [dialog, setDialog] = useState<EditorDialog | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const closeDialog = useCallback(() => setDialog(null), []);
  const [paletteHidden, setPaletteHidden] = usePersistentFlag(LAYOUT_KEYS.palette, false);
  const [panelHidden, setPanelHidden] = usePersistentFlag(LAYOUT_KEYS.panel, false);

  const { saveVersion, runDraft, describeDraft } = useDraftActions({
    workflowId: detail.id,
    flush: autosave.flush,
    onVersioned: useCallback(() => setDraftChanged(false), []),
    onInvalid: useCallback(() => setProblemsOpen(true), []),
  });
  const commands = useEditorCommands({
    openDialog: setDialog,
    focusSearch: useCallback(() => {
      // Searching the palette shows it first; the input exists after that render.
      setPaletteHidden(false);
      requestAnimationFrame(() => searchRef.current?.focus());
    }, [setPaletteHidden]),
  });
  useCommandHandlers('editor', commands);

  // A panel's decorations belong to it: switching panels takes them off the canvas.
  const openPanel = (id: SidePanelId) => {
    setPanelId(id);
    setOverlay(null);
    if (id !== DEFAULT_PANEL) setPanelHidden(false);
  };
  const panel = SIDE_PANELS.find((entry) => entry.id === panelId) ?? SIDE_PANELS[0];

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

  return (
    <div className="editor" data-testid="editor">
      <Toolbar
        name={graph.name}
        saveState={autosave.state}
        draftChanged={draftChanged}
        commands={commands}
        panel={panelId}
        onTogglePanel={(id) => openPanel(panelId === id ? DEFAULT_PANEL : id)}
      />
      <div
        className="editor-body"
        style={{
          gridTemplateColumns: `${paletteHidden ? '0' : '200px'} minmax(0, 1fr) ${panelHidden ? '0' : '320px'}`,
        }}
      >
        {paletteHidden ? <div /> : <Palette onAdd={addNode} searchRef={searchRef} />}
        <div className="canvas-column">
          {overlay?.banner}
          <div className="canvas-area">
            <button
              type="button"
              className="panel-toggle canvas-toggle left"
              aria-label={paletteHidden ? 'Show palette' : 'Hide palette'}
              aria-expanded={!paletteHidden}
              title={paletteHidden ? 'Show palette' : 'Hide palette'}
              onClick={() => setPaletteHidden(!paletteHidden)}
            >
              <Icon name={paletteHidden ? 'chevron-right' : 'chevron-left'} size={14} />
            </button>
            <button
              type="button"
              className="panel-toggle canvas-toggle right"
              aria-label={panelHidden ? 'Show side panel' : 'Hide side panel'}
              aria-expanded={!panelHidden}
              title={panelHidden ? 'Show side panel' : 'Hide side panel'}
              onClick={() => {
                // A hidden panel's decorations leave the canvas with it, as when it closes.
                if (!panelHidden) setOverlay(null);
                setPanelHidden(!panelHidden);
              }}
            >
              <Icon name={panelHidden ? 'chevron-left' : 'chevron-right'} size={14} />
            </button>
            {overlay?.graph ? (
              <ReadOnlyCanvas graph={overlay.graph} decorations={overlay.decorations} />
            ) : (
              <Canvas problems={problems} decorations={overlay?.decorations} />
            )}
          </div>
          <ProblemsPanel problems={problems} open={problemsOpen} onToggle={() => setProblemsOpen(!problemsOpen)} />
        </div>
        {panelHidden ? (
          <div />
        ) : (
          <panel.Component
            key={panel.id}
            workflowId={detail.id}
            openVersion={openVersion}
            problems={problems}
            close={() => openPanel(DEFAULT_PANEL)}
            showOnCanvas={setOverlay}
          />
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
          onSubmit={(note) => {
            setDialog(null);
            void saveVersion(note);
          }}
        />
      )}
      {dialog === 'help' && <ShortcutsHelp onClose={() => setDialog(null)} />}
      {dialog === 'run' && (
        <RunDialog
          workflowId={detail.id}
          sampleInput={graph.nodes.find((node) => node.type === 'trigger.manual')?.config.sampleInput}
          errors={errors}
          describeDraft={describeDraft}
          run={runDraft}
          onClose={closeDialog}
          onStarted={(run) => {
            setDialog(null);
            // The run view replaces the old "last run" strip: status, steps and errors live there.
            navigate(runHref(run.runId));
          }}
        />
      )}
    </div>
  );
}
