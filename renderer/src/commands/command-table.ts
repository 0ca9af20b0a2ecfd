// Every command of the app in one table. Keyboard shortcuts, the toolbar, the shortcuts help and
// the desktop menu all read it; electron/main.ts builds its menu from `menuTemplate()` and sends
// clicks back by id, so the ids cannot drift apart. Pure data: no React, no DOM.

/** What a shortcut looks at in a keyboard event (a DOM KeyboardEvent has all of it). */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}

/** Who runs a command: the app shell (always there) or the open workflow's editor. */
export type CommandScope = 'app' | 'editor';

export type MenuSection = 'File' | 'Edit' | 'View' | 'Run';

/** The native editing command (`document.execCommand`) a menu item means while a text field has focus. */
export type TextEdit = 'undo' | 'redo' | 'cut' | 'copy' | 'paste' | 'selectAll';

export interface CommandSpec {
  scope: CommandScope;
  /** Short name: the toolbar's label and tooltip, the help text and the menu item unless they say more. */
  label: string;
  /** The shortcuts help's text, when it says more than the label. */
  help?: string;
  keys?: { label: string; match: (event: KeyPress) => boolean };
  /** Items of a section are ordered by group, then by their order in this table; groups are separated. */
  menu?: { section: MenuSection; group: number; label?: string; accelerator?: string; textEdit?: TextEdit };
  /** `tools` are icon buttons left of the panel toggles, `actions` labelled buttons right of them. */
  toolbar?: { icon: string; slot: 'tools' | 'actions'; primary?: boolean; title?: string };
}

const mod = (event: KeyPress) => event.ctrlKey || event.metaKey;
const key = (event: KeyPress) => event.key.toLowerCase();

// Table order is the order of the shortcuts help and of each menu group.
export const COMMANDS = {
  new: {
    scope: 'app',
    label: 'New workflow',
    menu: { section: 'File', group: 0, label: 'New Workflow', accelerator: 'CmdOrCtrl+N' },
  },
  open: {
    scope: 'app',
    label: 'Import a workflow',
    menu: { section: 'File', group: 0, label: 'Open / Import…', accelerator: 'CmdOrCtrl+O' },
  },
  export: {
    scope: 'app',
    label: 'Export the open workflow',
    menu: { section: 'File', group: 0, label: 'Export…', accelerator: 'CmdOrCtrl+E' },
  },
  credentials: {
    scope: 'app',
    label: 'Credentials',
    help: 'Add, replace and delete the secrets nodes refer to by name',
    menu: { section: 'File', group: 2, label: 'Credentials…' },
  },
  undo: {
    scope: 'editor',
    label: 'Undo',
    keys: { label: 'Ctrl/⌘ Z', match: (e) => mod(e) && !e.shiftKey && key(e) === 'z' },
    menu: { section: 'Edit', group: 0, accelerator: 'CmdOrCtrl+Z', textEdit: 'undo' },
    toolbar: { icon: 'undo', slot: 'tools' },
  },
  redo: {
    scope: 'editor',
    label: 'Redo',
    keys: {
      label: 'Ctrl/⌘ Shift Z · Ctrl Y',
      match: (e) => mod(e) && ((e.shiftKey && key(e) === 'z') || key(e) === 'y'),
    },
    menu: { section: 'Edit', group: 0, accelerator: 'CmdOrCtrl+Shift+Z', textEdit: 'redo' },
    toolbar: { icon: 'redo', slot: 'tools' },
  },
  cut: {
    scope: 'editor',
    label: 'Cut',
    help: 'Cut the selected nodes',
    keys: { label: 'Ctrl/⌘ X', match: (e) => mod(e) && key(e) === 'x' },
    menu: { section: 'Edit', group: 1, accelerator: 'CmdOrCtrl+X', textEdit: 'cut' },
  },
  copy: {
    scope: 'editor',
    label: 'Copy',
    help: 'Copy the selected nodes',
    keys: { label: 'Ctrl/⌘ C', match: (e) => mod(e) && key(e) === 'c' },
    menu: { section: 'Edit', group: 1, accelerator: 'CmdOrCtrl+C', textEdit: 'copy' },
  },
  paste: {
    scope: 'editor',
    label: 'Paste',
    help: 'Paste (also into another workflow)',
    keys: { label: 'Ctrl/⌘ V', match: (e) => mod(e) && key(e) === 'v' },
    menu: { section: 'Edit', group: 1, accelerator: 'CmdOrCtrl+V', textEdit: 'paste' },
  },
  duplicate: {
    scope: 'editor',
    label: 'Duplicate',
    help: 'Duplicate the selected nodes',
    keys: { label: 'Ctrl/⌘ D', match: (e) => mod(e) && key(e) === 'd' },
  },
  'select-all': {
    scope: 'editor',
    label: 'Select all',
    help: 'Select all nodes',
    keys: { label: 'Ctrl/⌘ A', match: (e) => mod(e) && key(e) === 'a' },
    menu: { section: 'Edit', group: 1, label: 'Select All', accelerator: 'CmdOrCtrl+A', textEdit: 'selectAll' },
  },
  delete: {
    scope: 'editor',
    label: 'Delete',
    help: 'Delete the selection',
    keys: { label: 'Delete · Backspace', match: (e) => !mod(e) && (e.key === 'Delete' || e.key === 'Backspace') },
  },
  'save-version': {
    scope: 'editor',
    label: 'Save version',
    help: 'Save a version',
    keys: { label: 'Ctrl/⌘ S', match: (e) => mod(e) && key(e) === 's' },
    menu: { section: 'File', group: 1, label: 'Save Version…', accelerator: 'CmdOrCtrl+S' },
    toolbar: { icon: 'save', slot: 'actions' },
  },
  layout: {
    scope: 'editor',
    label: 'Auto-layout',
    keys: { label: 'Shift L', match: (e) => !mod(e) && e.shiftKey && key(e) === 'l' },
    toolbar: { icon: 'layout', slot: 'tools' },
  },
  'zoom-in': {
    scope: 'editor',
    label: 'Zoom in',
    keys: { label: '+', match: (e) => !mod(e) && (e.key === '+' || e.key === '=') },
    menu: { section: 'View', group: 0, label: 'Zoom In', accelerator: 'CmdOrCtrl+=' },
  },
  'zoom-out': {
    scope: 'editor',
    label: 'Zoom out',
    keys: { label: '-', match: (e) => !mod(e) && e.key === '-' },
    menu: { section: 'View', group: 0, label: 'Zoom Out', accelerator: 'CmdOrCtrl+-' },
  },
  fit: {
    scope: 'editor',
    label: 'Zoom to fit',
    keys: { label: '1', match: (e) => !mod(e) && e.key === '1' },
    menu: { section: 'View', group: 0, label: 'Zoom to Fit', accelerator: 'CmdOrCtrl+1' },
    toolbar: { icon: 'fit', slot: 'tools' },
  },
  'search-nodes': {
    scope: 'editor',
    label: 'Search the palette',
    keys: { label: 'Tab', match: (e) => !mod(e) && e.key === 'Tab' },
  },
  help: {
    scope: 'editor',
    label: 'Keyboard shortcuts',
    help: 'Show these shortcuts',
    keys: { label: '?', match: (e) => e.key === '?' },
    toolbar: { icon: 'keyboard', slot: 'tools' },
  },
  deselect: {
    scope: 'editor',
    label: 'Clear the selection',
    help: 'Clear the selection / close',
    keys: { label: 'Esc', match: (e) => e.key === 'Escape' },
  },
  run: {
    scope: 'editor',
    label: 'Run',
    help: 'Run the draft with an input (opens the run dialog)',
    // Not Ctrl+R: in served mode that reloads the tab.
    keys: { label: 'Ctrl/⌘ Enter', match: (e) => mod(e) && e.key === 'Enter' },
    menu: { section: 'Run', group: 0, label: 'Run…', accelerator: 'CmdOrCtrl+Enter' },
    toolbar: { icon: 'run', slot: 'actions', primary: true, title: 'Run the draft' },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandId = keyof typeof COMMANDS;

/** The commands a scope must handle: registering a scope without one of them does not compile. */
export type ScopeCommandId<S extends CommandScope> = {
  [K in CommandId]: (typeof COMMANDS)[K]['scope'] extends S ? K : never;
}[CommandId];

const IDS = Object.keys(COMMANDS) as CommandId[];

export function isCommandId(id: string): id is CommandId {
  return Object.hasOwn(COMMANDS, id);
}

export function commandSpec(id: CommandId): CommandSpec {
  return COMMANDS[id];
}

/** The command a key press means, if any. */
export function commandForKey(event: KeyPress): CommandId | undefined {
  return IDS.find((id) => commandSpec(id).keys?.match(event));
}

/** The shortcuts help, in table order. */
export function shortcutRows(): { id: CommandId; keys: string; description: string }[] {
  return IDS.flatMap((id) => {
    const spec = commandSpec(id);
    return spec.keys ? [{ id, keys: spec.keys.label, description: spec.help ?? spec.label }] : [];
  });
}

/** The editor's toolbar buttons of one slot, in table order. */
export function toolbarCommands(slot: 'tools' | 'actions'): ScopeCommandId<'editor'>[] {
  return IDS.filter(
    (id): id is ScopeCommandId<'editor'> =>
      commandSpec(id).scope === 'editor' && commandSpec(id).toolbar?.slot === slot,
  );
}

/** A toolbar button's tooltip: "Undo (Ctrl/⌘ Z)", with the first of several key combinations. */
export function toolbarTitle(id: CommandId): string {
  const spec = commandSpec(id);
  const title = spec.toolbar?.title ?? spec.label;
  const keys = spec.keys?.label.split(' · ')[0];
  return keys ? `${title} (${keys})` : title;
}

/**
 * The desktop menu as electron/main.ts receives it: sections of groups of items (main adds its
 * own roles: quit, reload, developer tools). A click comes back as the item's id.
 */
export interface MenuTemplate {
  sections: { label: MenuSection; groups: { id: CommandId; label: string; accelerator?: string }[][] }[];
}

const SECTIONS: MenuSection[] = ['File', 'Edit', 'View', 'Run'];

export function menuTemplate(): MenuTemplate {
  return {
    sections: SECTIONS.map((section) => {
      const groups: MenuTemplate['sections'][number]['groups'] = [];
      for (const id of IDS) {
        const menu = commandSpec(id).menu;
        if (menu?.section !== section) continue;
        const item = { id, label: menu.label ?? commandSpec(id).label };
        (groups[menu.group] ??= []).push(menu.accelerator ? { ...item, accelerator: menu.accelerator } : item);
      }
      return { label: section, groups: groups.filter(Boolean) };
    }),
  };
}
