// Canonical JSON: object keys sorted, no whitespace. Equal content gives equal text,
// which is what makes workflow versions content-addressed. Pure.

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // No prototype: on a plain object `out["__proto__"] = …` would set the prototype and drop the
    // key, so two different values would give one text (and one content hash).
    const out = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sortKeys(item);
    }
    return out;
  }
  return value;
}
