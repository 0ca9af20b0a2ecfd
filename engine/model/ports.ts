// A node type's ports. Most are fixed by the type; some output ports are named by the node's own
// config (an approval's custom outcomes), so the engine, validation and the canvas ask here.

export interface PortSpec {
  in: readonly string[];
  out: readonly string[];
  /** More output ports, one per item of the config list `list`, named by the item's `key`. */
  outFromConfig?: { list: string; key: string };
}

/** The output ports of a node of this type with this config: the fixed ones, then the config's. */
export function outputPorts(ports: PortSpec, config: unknown): string[] {
  const fixed = [...ports.out];
  const from = ports.outFromConfig;
  if (!from || typeof config !== 'object' || config === null) return fixed;
  const list = (config as Record<string, unknown>)[from.list];
  if (!Array.isArray(list)) return fixed;
  for (const item of list) {
    const name = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[from.key] : undefined;
    if (typeof name === 'string' && name !== '' && !fixed.includes(name)) fixed.push(name);
  }
  return fixed;
}
