// Who runs each command right now: each scope (the app shell, the open editor) registers a
// handler for every command of its scope. Keys, menu and toolbar all run commands through here.
import { type CommandId, type CommandScope, type ScopeCommandId, commandSpec } from './command-table.js';

export interface CommandHandler {
  run: () => void | Promise<void>;
  /** A disabled command does nothing from keys or menu, and its toolbar button is greyed out. */
  disabled?: boolean;
  /** The toolbar tooltip while disabled, when it should say why. */
  disabledTitle?: string;
}

export type ScopeHandlers<S extends CommandScope> = Record<ScopeCommandId<S>, CommandHandler>;

export class CommandRegistry {
  readonly #scopes = new Map<CommandScope, Partial<Record<CommandId, CommandHandler>>>();

  /** Replaces the scope's handlers; the returned function removes them unless replaced since. */
  register<S extends CommandScope>(scope: S, handlers: ScopeHandlers<S>): () => void {
    const entry: Partial<Record<CommandId, CommandHandler>> = handlers;
    this.#scopes.set(scope, entry);
    return () => {
      if (this.#scopes.get(scope) === entry) this.#scopes.delete(scope);
    };
  }

  /** The handler of a command whose scope is present, enabled or not. */
  handler(id: CommandId): CommandHandler | undefined {
    return this.#scopes.get(commandSpec(id).scope)?.[id];
  }

  /** Runs the command when its scope is present and it is enabled; says whether it ran. */
  run(id: CommandId): boolean {
    const handler = this.handler(id);
    if (!handler || handler.disabled === true) return false;
    void handler.run();
    return true;
  }
}
