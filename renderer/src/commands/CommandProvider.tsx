// Connects the command table to its inputs: keyboard shortcuts and the desktop menu (whose items
// it sends to Electron main from the table). Handlers come from each scope's useCommandHandlers.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { desktop } from '../app/platform.js';
import { CommandRegistry } from './command-registry.js';
import { commandForKey, commandSpec, isCommandId, menuTemplate } from './command-table.js';

const CommandContext = createContext<CommandRegistry | null>(null);

export function CommandProvider({ children }: { children: ReactNode }) {
  const [registry] = useState(() => new CommandRegistry());

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // Typing in a field or in Monaco, or answering a dialog, is not a canvas shortcut.
      if (isTypingTarget(event.target) || document.querySelector('[role="dialog"]') !== null) return;
      const id = commandForKey(event);
      if (id === undefined || !registry.handler(id)) return;
      event.preventDefault();
      registry.run(id);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [registry]);

  useEffect(() => {
    desktop?.setMenu(menuTemplate());
    return desktop?.onMenu((id) => {
      if (!isCommandId(id)) return;
      const textEdit = commandSpec(id).menu?.textEdit;
      // In a text field the native editing commands apply; on the canvas, ours.
      if (textEdit && isTypingTarget(document.activeElement)) document.execCommand(textEdit);
      else registry.run(id);
    });
  }, [registry]);

  return <CommandContext.Provider value={registry}>{children}</CommandContext.Provider>;
}

export function useCommandRegistry(): CommandRegistry {
  const registry = useContext(CommandContext);
  if (!registry) throw new Error('useCommandRegistry outside CommandProvider');
  return registry;
}

function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    target.tagName === 'INPUT' ||
    target.tagName === 'TEXTAREA' ||
    target.tagName === 'SELECT' ||
    target.closest('.monaco-field, .modal') !== null
  );
}
