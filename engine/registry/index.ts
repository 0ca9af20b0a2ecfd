// The node registry: node types by type + typeVersion. Old versions stay registered so that
// runs pinned to them keep their semantics. Imported by the validator and the runtime.
import { offersUndo } from '../model/ports.js';
import type { AnyNodeDefinition, ExpressionSyntax } from '../sdk/index.js';

export type RegisteredNode = AnyNodeDefinition;

export interface RegistryOptions {
  /**
   * How validation compiles `{{ }}` expressions in configs. It needs a JavaScript compiler that
   * reports positions (node:vm), which the pure layers cannot import: the engine passes the one in
   * `nodes/`. Without it, template syntax is only found when the expression runs.
   */
  expressionSyntax?: ExpressionSyntax;
}

export class NodeRegistry {
  readonly #byKey = new Map<string, RegisteredNode>();
  readonly expressionSyntax: ExpressionSyntax | undefined;

  constructor(definitions: readonly AnyNodeDefinition[] = [], options: RegistryOptions = {}) {
    for (const definition of definitions) this.register(definition);
    this.expressionSyntax = options.expressionSyntax;
  }

  register(definition: AnyNodeDefinition): void {
    const key = `${definition.type}@${definition.typeVersion}`;
    if (this.#byKey.has(key)) throw new Error(`node type ${key} is registered twice`);
    // Both run a node inside the commit that schedules it, before anything of it is durable: only
    // what nobody outside the engine can observe may run so (docs/architecture.md, effect classes).
    for (const field of ['inline', 'executeNow'] as const)
      if (definition[field] && definition.sideEffects !== 'pure')
        throw new Error(
          `node type ${key} has \`${field}\` but side effects "${definition.sideEffects}": only a pure node may run inside the commit that schedules it`,
        );
    // Whether it offers `undo` follows from its role and side effects: one rule for every type.
    this.#byKey.set(key, { ...definition, ports: { ...definition.ports, undo: offersUndo(definition) } });
  }

  get(type: string, typeVersion: number): RegisteredNode | undefined {
    return this.#byKey.get(`${type}@${typeVersion}`);
  }

  /** Versions registered for a type, ascending. */
  versionsOf(type: string): number[] {
    return this.list()
      .filter((definition) => definition.type === type)
      .map((definition) => definition.typeVersion)
      .sort((a, b) => a - b);
  }

  list(): RegisteredNode[] {
    return [...this.#byKey.values()];
  }
}
