// The command table: the keys, toolbar and desktop menu it drives, and the registry that runs a
// command in whichever scope (app shell, editor) handles it.
import { describe, expect, it } from 'vitest';
import { menuFromTemplate, menuTemplateSchema } from '../../electron/menu.js';
import { CommandRegistry, type ScopeHandlers } from '../../renderer/src/commands/command-registry.js';
import {
  commandForKey,
  menuTemplate,
  shortcutRows,
  toolbarCommands,
  toolbarTitle,
  type KeyPress,
} from '../../renderer/src/commands/command-table.js';

const press = (key: string, mods: Partial<Omit<KeyPress, 'key'>> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  ...mods,
});

describe('the command table', () => {
  it('maps each shortcut to its command, with Ctrl or ⌘', () => {
    const cases: [KeyPress, string | undefined][] = [
      [press('z', { ctrlKey: true }), 'undo'],
      [press('z', { metaKey: true }), 'undo'],
      [press('Z', { ctrlKey: true, shiftKey: true }), 'redo'],
      [press('y', { ctrlKey: true }), 'redo'],
      [press('x', { ctrlKey: true }), 'cut'],
      [press('c', { metaKey: true }), 'copy'],
      [press('v', { ctrlKey: true }), 'paste'],
      [press('d', { ctrlKey: true }), 'duplicate'],
      [press('a', { ctrlKey: true }), 'select-all'],
      [press('Delete'), 'delete'],
      [press('Backspace'), 'delete'],
      [press('s', { ctrlKey: true }), 'save-version'],
      [press('L', { shiftKey: true }), 'layout'],
      [press('1'), 'fit'],
      [press('+', { shiftKey: true }), 'zoom-in'],
      [press('='), 'zoom-in'],
      [press('-'), 'zoom-out'],
      [press('Tab'), 'search-nodes'],
      [press('?', { shiftKey: true }), 'help'],
      [press('Escape'), 'deselect'],
      [press('z'), undefined],
      [press('Backspace', { ctrlKey: true }), undefined],
      [press('1', { ctrlKey: true }), undefined],
    ];
    for (const [event, command] of cases) expect(commandForKey(event), JSON.stringify(event)).toBe(command);
  });

  it('lists every shortcut in the help, and the toolbar buttons with their keys', () => {
    expect(shortcutRows().map((row) => row.id)).toHaveLength(17);
    expect(shortcutRows().find((row) => row.id === 'help')).toEqual({
      id: 'help',
      keys: '?',
      description: 'Show these shortcuts',
    });
    expect(toolbarCommands('tools')).toEqual(['undo', 'redo', 'layout', 'fit', 'help']);
    expect(toolbarCommands('actions')).toEqual(['save-version', 'run']);
    expect(toolbarCommands('tools').map(toolbarTitle)).toEqual([
      'Undo (Ctrl/⌘ Z)',
      'Redo (Ctrl/⌘ Shift Z)',
      'Auto-layout (Shift L)',
      'Zoom to fit (1)',
      'Keyboard shortcuts (?)',
    ]);
    expect(toolbarTitle('run')).toBe('Run the draft (Ctrl/⌘ Enter)');
  });

  it('builds the desktop menu Electron main accepts, clicks coming back by command id', () => {
    const template = menuTemplateSchema.parse(menuTemplate());
    const clicked: string[] = [];
    const menu = menuFromTemplate(template.sections, (id) => clicked.push(id), 'linux');
    const shape = menu.map((section) => ({
      label: section.label,
      items: (Array.isArray(section.submenu) ? section.submenu : []).map((item) => {
        if (item.type === 'separator') return '---';
        if (item.role) return `role:${item.role}`;
        // The items' click ignores Electron's arguments.
        (item.click as (() => void) | undefined)?.();
        return `${item.label} ${item.accelerator ?? ''}`.trim();
      }),
    }));
    expect(shape).toEqual([
      {
        label: 'File',
        items: [
          'New Workflow CmdOrCtrl+N',
          'Open / Import… CmdOrCtrl+O',
          'Export… CmdOrCtrl+E',
          '---',
          'Save Version… CmdOrCtrl+S',
          '---',
          'Credentials…',
          '---',
          'role:quit',
        ],
      },
      {
        label: 'Edit',
        items: [
          'Undo CmdOrCtrl+Z',
          'Redo CmdOrCtrl+Shift+Z',
          '---',
          'Cut CmdOrCtrl+X',
          'Copy CmdOrCtrl+C',
          'Paste CmdOrCtrl+V',
          'Select All CmdOrCtrl+A',
        ],
      },
      {
        label: 'View',
        items: [
          'Zoom In CmdOrCtrl+=',
          'Zoom Out CmdOrCtrl+-',
          'Zoom to Fit CmdOrCtrl+1',
          '---',
          'role:reload',
          'role:toggleDevTools',
          'role:togglefullscreen',
        ],
      },
      { label: 'Run', items: ['Run… CmdOrCtrl+Enter'] },
    ]);
    expect(clicked).toEqual([
      'new',
      'open',
      'export',
      'save-version',
      'credentials',
      'undo',
      'redo',
      'cut',
      'copy',
      'paste',
      'select-all',
      'zoom-in',
      'zoom-out',
      'fit',
      'run',
    ]);
  });

  it('refuses a menu template main cannot trust', () => {
    const item = (fields: Record<string, unknown>) => ({ sections: [{ label: 'File', groups: [[fields]] }] });
    expect(menuTemplateSchema.safeParse(item({ id: 'new', label: 'New' })).success).toBe(true);
    expect(menuTemplateSchema.safeParse(item({ id: 'new', label: 'New', role: 'quit' })).success).toBe(false);
    expect(menuTemplateSchema.safeParse(item({ id: 'New Thing', label: 'New' })).success).toBe(false);
    expect(menuTemplateSchema.safeParse(item({ id: 'new', label: 'New', accelerator: 'Ctrl+N\u0000' })).success).toBe(
      false,
    );
  });
});

describe('the command registry', () => {
  const appHandlers = (log: string[], exportDisabled = false): ScopeHandlers<'app'> => ({
    new: { run: () => void log.push('new') },
    open: { run: () => void log.push('open') },
    export: { run: () => void log.push('export'), disabled: exportDisabled },
    credentials: { run: () => void log.push('credentials') },
  });

  it('runs a command only while its scope is registered and it is enabled', () => {
    const registry = new CommandRegistry();
    const log: string[] = [];
    expect(registry.run('new')).toBe(false);
    const unregister = registry.register('app', appHandlers(log, true));
    expect(registry.run('new')).toBe(true);
    expect(registry.run('export')).toBe(false);
    expect(registry.handler('export')?.disabled).toBe(true);
    // An editor command without an open editor does nothing.
    expect(registry.run('undo')).toBe(false);
    unregister();
    expect(registry.run('open')).toBe(false);
    expect(log).toEqual(['new']);
  });

  it('keeps a newer registration when an older one is removed (React re-registers on change)', () => {
    const registry = new CommandRegistry();
    const log: string[] = [];
    const first = registry.register('app', appHandlers(['ignored']));
    registry.register('app', appHandlers(log));
    first();
    expect(registry.run('open')).toBe(true);
    expect(log).toEqual(['open']);
  });
});
