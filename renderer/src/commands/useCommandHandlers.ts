// A scope (the app shell, the open editor) handles its commands while it is mounted.
import { useEffect } from 'react';
import type { ScopeHandlers } from './command-registry.js';
import type { CommandScope } from './command-table.js';
import { useCommandRegistry } from './CommandProvider.js';

export function useCommandHandlers<S extends CommandScope>(scope: S, handlers: ScopeHandlers<S>): void {
  const registry = useCommandRegistry();
  useEffect(() => registry.register(scope, handlers), [registry, scope, handlers]);
}
