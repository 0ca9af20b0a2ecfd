// A node type's ports. Most are fixed by the type; some output ports are named by the node's own
// config (an approval's custom outcomes), and nodes with side effects offer an `undo` port (their
// saga compensation), so the engine, validation and the canvas ask here.

export interface PortSpec {
  in: readonly string[];
  out: readonly string[];
  /** More output ports, one per item of the config list `list`, named by the item's `key`. */
  outFromConfig?: { list: string; key: string };
  /** Offers the `undo` port: an edge from it names the node that reverses this one (set by the registry). */
  undo?: boolean;
}

/** The output port whose edge leads to a node's compensation, never to the normal flow. */
export const UNDO_PORT = 'undo';

/**
 * Whether a node type can be compensated: a trigger starts runs and a pure node changes nothing
 * outside, so neither has anything to undo.
 */
export function offersUndo(definition: { role?: string; sideEffects: string }): boolean {
  return definition.role !== 'trigger' && definition.sideEffects !== 'pure';
}

/** The output ports of a node of this type with this config: the fixed ones, the config's, then `undo`. */
export function outputPorts(ports: PortSpec, config: unknown): string[] {
  const fixed = [...ports.out];
  const from = ports.outFromConfig;
  if (from && typeof config === 'object' && config !== null) {
    const list = (config as Record<string, unknown>)[from.list];
    if (Array.isArray(list))
      for (const item of list) {
        const name =
          typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[from.key] : undefined;
        if (typeof name === 'string' && name !== '' && !fixed.includes(name)) fixed.push(name);
      }
  }
  if (ports.undo === true && !fixed.includes(UNDO_PORT)) fixed.push(UNDO_PORT);
  return fixed;
}
