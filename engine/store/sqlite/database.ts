// Opening the SQLite file: pragmas, the schema-version guard and migrations.
// A database from a newer Stepwise is refused untouched; a file that is not one gets a clear error.
// Before the first write, the file is checked (header, then `PRAGMA quick_check`: about 2 ms per
// MB, measured 150 ms for 72 MB) so that a corrupt file is refused rather than written to. The
// file, its -wal/-shm and any folder created for it are owner-only. A reader (`readonly`) opens
// the file read-only, so that it works in a folder it cannot write.
import Database from 'better-sqlite3';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
} from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
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
  /** Only reads: the file is opened read-only (created read-write only when it does not exist yet). */
  readonly?: boolean;
}

/**
 * Test-only: caps the file at its size on opening plus this many pages (`PRAGMA max_page_count`),
 * so that SQLite answers SQLITE_FULL as on a full disk.
 */
export const TEST_SPARE_PAGES_ENV = 'STEPWISE_TEST_SPARE_PAGES';

// better-sqlite3 reads this when it loads its addon (the first `new Database`): URIs let a reader
// open a file `immutable` in a folder where SQLite cannot create the -shm file.
process.env.SQLITE_USE_URI ??= '1';

const OWNER_ONLY_FILE = 0o600;
const OWNER_ONLY_FOLDER = 0o700;

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  if (path === ':memory:') return configure(connect(path, false, path), path, options);
  const file = resolve(path);
  if (options.readonly && existsSync(file)) {
    const db = openForReading(file);
    try {
      if (checkSchema(db, file) >= SCHEMA_VERSION) return db;
    } catch (error) {
      db.close();
      throw asDatabaseError(error, file);
    }
    // An older schema: it must be migrated, which writes.
    db.close();
  }
  createFolder(dirname(file));
  requireWritable(file);
  const created = createOwnerOnly(file);
  if (!created) checkHeader(file);
  const db = connect(file, false, file);
  try {
    if (!created) verify(db, file);
    tightenModes(file);
    return configure(db, file, options);
  } catch (error) {
    if (db.open) db.close();
    throw asDatabaseError(error, file);
  }
}

function configure(db: Db, path: string, options: OpenDatabaseOptions): Db {
  try {
    const found = checkSchema(db, path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    const spare = Number(process.env[TEST_SPARE_PAGES_ENV]);
    if (Number.isInteger(spare) && spare > 0)
      db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + spare}`);
    if (found < SCHEMA_VERSION) migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    throw asDatabaseError(error, path);
  }
}

function connect(path: string, readonly: boolean, shown: string): Db {
  try {
    return new Database(path, { readonly, fileMustExist: readonly, timeout: 10_000 });
  } catch (error) {
    throw new DatabaseError(`cannot open database ${shown}: ${messageOf(error)}`, { cause: error });
  }
}

/**
 * Read-only. In a folder it cannot write, SQLite cannot create the -shm file a WAL database
 * needs: without a -wal file (a clean shutdown) the file holds everything and is read as
 * immutable; with one, the -shm must already be there too.
 */
function openForReading(file: string): Db {
  try {
    return probed(new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 }));
  } catch (error) {
    if (!isCode(error, 'SQLITE_CANTOPEN') && !isCode(error, 'SQLITE_READONLY')) throw asDatabaseError(error, file);
    if (existsSync(`${file}-wal`))
      throw new DatabaseError(
        `cannot read ${file}: its latest changes are in ${file}-wal, and SQLite cannot create ${file}-shm to read ` +
          `them because ${notWritable(dirname(file))}. Make the folder writable, then try again.`,
        { cause: error },
      );
    try {
      return probed(new Database(`${pathToFileURL(file).href}?immutable=1`, { readonly: true, timeout: 10_000 }));
    } catch {
      throw new DatabaseError(`cannot read ${file}: ${notWritable(dirname(file))} (${messageOf(error)})`, {
        cause: error,
      });
    }
  }
}

/** SQLite opens lazily: the first read is what fails when the -shm cannot be created. */
function probed(db: Db): Db {
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Creates the folder and any missing parent owner-only, whatever the umask. */
function createFolder(folder: string): void {
  let first: string | undefined;
  try {
    first = mkdirSync(folder, { recursive: true, mode: OWNER_ONLY_FOLDER });
  } catch (error) {
    throw new DatabaseError(`cannot create the folder ${folder} for the database: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (first === undefined) return;
  for (let dir = folder; ; dir = dirname(dir)) {
    chmodSync(dir, OWNER_ONLY_FOLDER);
    if (dir === first || dirname(dir) === dir) break;
  }
}

/** Says which of the folder and the file cannot be written, before SQLite says it less clearly. */
function requireWritable(file: string): void {
  const folder = dirname(file);
  const problem = !canWrite(folder)
    ? notWritable(folder)
    : existsSync(file) && !canWrite(file)
      ? `the file ${file} is not writable`
      : null;
  if (problem)
    throw new DatabaseError(
      `cannot write to the database ${file}: ${problem}. Commands that only read (runs, show, export) still work.`,
    );
}

function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function notWritable(folder: string): string {
  return `the folder ${folder}${folder.endsWith(sep) ? '' : sep} is not writable`;
}

/** Creates an empty file owner-only (SQLite gives its -wal and -shm the file's mode); false if it existed. */
function createOwnerOnly(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', OWNER_ONLY_FILE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new DatabaseError(`cannot create the database ${file}: ${messageOf(error)}`, { cause: error });
  }
  closeSync(fd);
  chmodSync(file, OWNER_ONLY_FILE);
  return true;
}

/** An existing file (and its -wal/-shm) is made owner-only when opened for writing. */
function tightenModes(file: string): void {
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, OWNER_ONLY_FILE);
    } catch (error) {
      // Gone meanwhile (-wal/-shm), or another user's file: its owner decides.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EPERM') throw error;
    }
  }
}

/** The 100-byte header: cheap to read, and what a truncated or overwritten file gets wrong first. */
function checkHeader(file: string): void {
  const size = statSync(file).size;
  if (size === 0) return; // SQLite treats an empty file as a new database
  const header = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  let read: number;
  try {
    read = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  const refuse = (what: string): never => {
    throw new DatabaseError(`${file} ${what}; Stepwise will not write to it (the file was not modified)`);
  };
  if (read < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0')
    refuse('is not a Stepwise database or is corrupt: it is not an SQLite file (its header is wrong)');
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) refuse(`is corrupt: its header gives a page size of ${raw}`);
  if (size % pageSize !== 0)
    refuse(`is corrupt: its size (${size} bytes) is not a whole number of ${pageSize}-byte pages (truncated?)`);
}

/**
 * Reads every page of the b-trees before anything is written. With committed changes waiting in
 * the -wal, a separate read-only connection checks: closing the writer after a refusal would
 * checkpoint them into the damaged file.
 */
function verify(db: Db, file: string): void {
  const walPending = existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0;
  const checker = walPending ? connect(file, true, file) : db;
  let problems: string[];
  try {
    problems = (checker.pragma('quick_check(3)') as { quick_check: string }[])
      .flatMap((row) => row.quick_check.split('\n'))
      .filter((line) => !line.startsWith('***')) // "*** in database main ***"
      .slice(0, 3);
  } catch (error) {
    problems = [messageOf(error)];
  } finally {
    if (checker !== db) checker.close();
  }
  if (problems.length === 1 && problems[0] === 'ok') return;
  throw new DatabaseError(
    `${file} is corrupt (${problems.join('; ')}); Stepwise will not write to it (the file was not modified). ` +
      'Restore it from a backup, or recover what can be read with: sqlite3 <file> .recover | sqlite3 <new file>',
  );
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

function asDatabaseError(error: unknown, path: string): DatabaseError {
  if (error instanceof DatabaseError) return error;
  if (isCode(error, 'SQLITE_READONLY') || isCode(error, 'SQLITE_CANTOPEN') || isCode(error, 'SQLITE_PERM'))
    return new DatabaseError(`cannot write to the database ${path}: ${messageOf(error)}`, { cause: error });
  return new DatabaseError(`${path} is not a Stepwise database or is corrupt: ${messageOf(error)}`, { cause: error });
}

/** An SQLite error of this primary code (extended codes included: SQLITE_READONLY_DIRECTORY…). */
function isCode(error: unknown, code: string): boolean {
  const found = (error as { code?: unknown } | null)?.code;
  return typeof found === 'string' && (found === code || found.startsWith(`${code}_`));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
