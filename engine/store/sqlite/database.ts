// Opening the SQLite file: pragmas, the schema-version guard and migrations.
// A database from a newer Stepwise is refused untouched; a file that is not one gets a clear error.
// (No integrity scan on open: it is O(size). Corruption met later surfaces as SQLITE_CORRUPT.)
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Synchronous } from '../store.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export const SCHEMA_VERSION = MIGRATIONS.length;
export const APPLICATION_ID = 0x53545057; // "STPW": marks the file as a Stepwise database

export class DatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

export interface OpenDatabaseOptions {
  synchronous?: Synchronous;
  readonly?: boolean;
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, timeout: 10_000 });
  } catch (error) {
    throw new DatabaseError(`cannot open database ${path}: ${messageOf(error)}`, { cause: error });
  }
  try {
    const found = checkSchema(db, path);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      db.pragma('foreign_keys = ON');
      if (found < SCHEMA_VERSION) migrate(db, path);
    }
    return db;
  } catch (error) {
    db.close();
    if (error instanceof DatabaseError) throw error;
    throw new DatabaseError(`${path} is not a Stepwise database or is corrupt: ${messageOf(error)}`, { cause: error });
  }
}

function checkSchema(db: Db, path: string): number {
  // Reading the header is what fails on a file that is not SQLite ("file is not a database").
  const version = db.pragma('user_version', { simple: true }) as number;
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
  if (applicationId !== APPLICATION_ID && (tables.n > 0 || version > 0))
    throw new DatabaseError(`${path} is an SQLite database of another application; Stepwise will not modify it`);
  if (version > SCHEMA_VERSION)
    throw new DatabaseError(
      `${path} was written by a newer Stepwise (schema ${version}; this version understands up to ${SCHEMA_VERSION}). ` +
        'Upgrade Stepwise to open it; the file was not modified.',
    );
  return version;
}

function migrate(db: Db, path: string): void {
  db.transaction(() => {
    // Re-read under the write lock: another process opening the same new file may have migrated it meanwhile.
    const from = checkSchema(db, path);
    for (const migration of MIGRATIONS.slice(from)) db.exec(migration.sql);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
