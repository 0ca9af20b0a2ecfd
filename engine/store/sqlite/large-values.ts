// Large values stored once. A node's output reaches the journal several times — its NodeCompleted,
// each successor's NodeScheduled input, RunCompleted, the run row, an approval's inbox row — and
// a value that passes through a node unchanged comes back again. A value whose JSON is at least
// LARGE_VALUE_CHARS long is kept once in `large_values`, keyed by the sha256 of its JSON, and the
// row that holds it keeps the hash instead: `events.refs` names the fields of `data` stored this
// way (each held as null in `data`), `runs.input_ref`/`output_ref` and `waits.input_ref` stand
// for their column. Written in the transaction of the rows that refer to it; read back as the
// plain value, so nothing above the store sees a reference.
import { createHash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** JSON text at least this long (UTF-16 units; ~16 KiB of ASCII) is stored once and referenced. */
export const LARGE_VALUE_CHARS = 16 * 1024;

/** A value as a row column holds it: its JSON text, or null text and the hash of its JSON. */
export interface ColumnValue {
  json: string;
  ref: string | null;
}

export class LargeValues {
  readonly #put: Statement<[string, string]>;
  readonly #get: Statement<[string], { json: string }>;

  constructor(db: Db) {
    this.#put = db.prepare('INSERT OR IGNORE INTO large_values (hash, json) VALUES (?, ?)');
    this.#get = db.prepare('SELECT json FROM large_values WHERE hash = ?');
  }

  /** A column's value: inline when small; when large, stored once (in the caller's transaction) and referenced. */
  column(value: unknown): ColumnValue {
    const json = JSON.stringify(value ?? null);
    return json.length < LARGE_VALUE_CHARS ? { json, ref: null } : { json: 'null', ref: this.#store(json) };
  }

  /** An event's data: each top-level field that is large stored once; `refs` names them (null when none). */
  data(data: object): { json: string; refs: string | null } {
    // The common case in one stringify: shorter than the threshold as a whole, no field is large,
    // and the whole is exactly what the fields below would join to.
    const whole = JSON.stringify(data);
    if (whole.length < LARGE_VALUE_CHARS) return { json: whole, refs: null };
    const parts: string[] = [];
    let refs: Record<string, string> | null = null;
    for (const [key, value] of Object.entries(data)) {
      const json = JSON.stringify(value) as string | undefined;
      if (json === undefined) continue;
      if (json.length < LARGE_VALUE_CHARS) parts.push(`${JSON.stringify(key)}:${json}`);
      else {
        (refs ??= {})[key] = this.#store(json);
        parts.push(`${JSON.stringify(key)}:null`);
      }
    }
    return { json: `{${parts.join(',')}}`, refs: refs && JSON.stringify(refs) };
  }

  /** The value a column holds, reading it from `large_values` when the row refers to it. */
  readColumn(json: string, ref: string | null, where: string): unknown {
    return parseJson(ref === null ? json : this.#text(ref, where), where);
  }

  /** An event's data with its referenced fields read back. */
  readData(json: string, refs: string | null, where: string): unknown {
    const data = parseJson(json, where) as Record<string, unknown>;
    if (refs === null) return data;
    for (const [key, hash] of Object.entries(parseJson(refs, `${where} (refs)`) as Record<string, string>))
      data[key] = parseJson(this.#text(hash, `${where}.${key}`), `${where}.${key}`);
    return data;
  }

  #store(json: string): string {
    const hash = createHash('sha256').update(json).digest('hex');
    this.#put.run(hash, json);
    return hash;
  }

  #text(hash: string, where: string): string {
    const row = this.#get.get(hash);
    if (!row) throw new Error(`${where}: its stored value ${hash.slice(0, 12)}… is missing (the database is damaged)`);
    return row.json;
  }
}

export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${where}: stored data is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}
