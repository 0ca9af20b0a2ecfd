// The editor's toolbar: the workflow's name and save state, then buttons read from the command
// table (tools, then actions) around the toggles of the side panel registry.
import type { CommandHandler, ScopeHandlers } from '../commands/command-registry.js';
import { navigate, runsHref } from '../app/routes.js';
import { commandSpec, toolbarCommands, toolbarTitle, type ScopeCommandId } from '../commands/command-table.js';
import { Icon } from '../ui/Icon.js';
import { useEditorState } from './editor-context.js';
import { SIDE_PANELS, type SidePanelId } from './side-panels.js';
import type { SaveState } from './use-autosave.js';

export function Toolbar(props: {
  name: string;
  saveState: SaveState;
  draftChanged: boolean;
  commands: ScopeHandlers<'editor'>;
  panel: SidePanelId;
  onTogglePanel: (panel: SidePanelId) => void;
}) {
  const { commands, panel } = props;
  // The draft's id is the workflow's (saveDraft insists), so the store knows which runs to list.
  const workflowId = useEditorState((state) => state.graph.id);
  return (
    <header className="toolbar">
      <div className="toolbar-title">
        <h1 data-testid="workflow-name">{props.name}</h1>
        <SaveIndicator state={props.saveState} draftChanged={props.draftChanged} />
      </div>
      <div className="toolbar-actions">
        {toolbarCommands('tools').map((id) => (
          <CommandButton key={id} id={id} handler={commands[id]} />
        ))}
        <span className="separator" />
        {SIDE_PANELS.map(
          (entry) =>
            'toggle' in entry && (
              <button
                key={entry.id}
                type="button"
                className={panel === entry.id ? 'active' : undefined}
                onClick={() => props.onTogglePanel(entry.id)}
                title={entry.toggle.title}
              >
                <Icon name={entry.toggle.icon} /> {entry.toggle.label}
              </button>
            ),
        )}
        <button
          type="button"
          onClick={() => navigate(runsHref({ workflowId }))}
          data-testid="workflow-runs"
          title="This workflow's runs"
        >
          <Icon name="history" /> Runs
        </button>
        {toolbarCommands('actions').map((id) => (
          <CommandButton key={id} id={id} handler={commands[id]} />
        ))}
      </div>
    </header>
  );
}

/** Tools are icons named by their aria-label; actions show their name. */
function CommandButton({ id, handler }: { id: ScopeCommandId<'editor'>; handler: CommandHandler }) {
  const spec = commandSpec(id);
  const labelled = spec.toolbar?.slot === 'actions';
  const disabled = handler.disabled === true;
  return (
    <button
      type="button"
      className={spec.toolbar?.primary ? 'primary' : undefined}
      onClick={() => void handler.run()}
      disabled={disabled}
      title={disabled && handler.disabledTitle ? handler.disabledTitle : toolbarTitle(id)}
      aria-label={labelled ? undefined : spec.label}
    >
      <Icon name={spec.toolbar?.icon ?? 'code'} />
      {labelled && ` ${spec.label}`}
    </button>
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
