// Keyboard shortcuts of the canvas: one table, used by the key handler and the help overlay.
export type ShortcutAction =
  | 'undo'
  | 'redo'
  | 'copy'
  | 'cut'
  | 'paste'
  | 'duplicate'
  | 'select-all'
  | 'delete'
  | 'save-version'
  | 'layout'
  | 'fit'
  | 'zoom-in'
  | 'zoom-out'
  | 'search-nodes'
  | 'help'
  | 'deselect';

export interface Shortcut {
  action: ShortcutAction;
  keys: string;
  description: string;
  match: (event: KeyboardEvent) => boolean;
}

const mod = (event: KeyboardEvent) => event.ctrlKey || event.metaKey;
const key = (event: KeyboardEvent) => event.key.toLowerCase();

export const SHORTCUTS: Shortcut[] = [
  { action: 'undo', keys: 'Ctrl/⌘ Z', description: 'Undo', match: (e) => mod(e) && !e.shiftKey && key(e) === 'z' },
  {
    action: 'redo',
    keys: 'Ctrl/⌘ Shift Z · Ctrl Y',
    description: 'Redo',
    match: (e) => mod(e) && ((e.shiftKey && key(e) === 'z') || key(e) === 'y'),
  },
  { action: 'copy', keys: 'Ctrl/⌘ C', description: 'Copy the selected nodes', match: (e) => mod(e) && key(e) === 'c' },
  { action: 'cut', keys: 'Ctrl/⌘ X', description: 'Cut the selected nodes', match: (e) => mod(e) && key(e) === 'x' },
  {
    action: 'paste',
    keys: 'Ctrl/⌘ V',
    description: 'Paste (also into another workflow)',
    match: (e) => mod(e) && key(e) === 'v',
  },
  {
    action: 'duplicate',
    keys: 'Ctrl/⌘ D',
    description: 'Duplicate the selected nodes',
    match: (e) => mod(e) && key(e) === 'd',
  },
  { action: 'select-all', keys: 'Ctrl/⌘ A', description: 'Select all nodes', match: (e) => mod(e) && key(e) === 'a' },
  {
    action: 'delete',
    keys: 'Delete · Backspace',
    description: 'Delete the selection',
    match: (e) => !mod(e) && (e.key === 'Delete' || e.key === 'Backspace'),
  },
  { action: 'save-version', keys: 'Ctrl/⌘ S', description: 'Save a version', match: (e) => mod(e) && key(e) === 's' },
  {
    action: 'layout',
    keys: 'Shift L',
    description: 'Auto-layout',
    match: (e) => !mod(e) && e.shiftKey && key(e) === 'l',
  },
  { action: 'fit', keys: '1', description: 'Zoom to fit', match: (e) => !mod(e) && e.key === '1' },
  { action: 'zoom-in', keys: '+', description: 'Zoom in', match: (e) => !mod(e) && (e.key === '+' || e.key === '=') },
  { action: 'zoom-out', keys: '-', description: 'Zoom out', match: (e) => !mod(e) && e.key === '-' },
  { action: 'search-nodes', keys: 'Tab', description: 'Search the palette', match: (e) => !mod(e) && e.key === 'Tab' },
  { action: 'help', keys: '?', description: 'Show these shortcuts', match: (e) => e.key === '?' },
  { action: 'deselect', keys: 'Esc', description: 'Clear the selection / close', match: (e) => e.key === 'Escape' },
];

/** Typing in a field or in Monaco must not trigger canvas shortcuts. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    target.tagName === 'INPUT' ||
    target.tagName === 'TEXTAREA' ||
    target.tagName === 'SELECT' ||
    target.closest('.monaco-field, .modal') !== null
  );
}
