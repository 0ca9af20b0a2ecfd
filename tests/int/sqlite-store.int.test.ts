// The SQLite store: the conformance suite every store passes, and what is SQLite's own (migrating
// a file written by an older schema, refusing a corrupt event by name).
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { APPLICATION_ID, MIGRATIONS, SqliteStore, type Store, type StoreLocation } from '../../engine/store/index.js';
import { tempDir } from '../support/harness.js';
import { storeConformance } from '../support/store-conformance.js';

let dirs: ReturnType<typeof tempDir>[] = [];
let stores: Store[] = [];

storeConformance('SQLite', {
  open() {
    const dir = tempDir('stepwise-store-');
    dirs.push(dir);
    const store = new SqliteStore(dir.db, { synchronous: 'NORMAL' });
    stores.push(store);
    return Promise.resolve(store);
  },
  reopen(location: StoreLocation) {
    return Promise.resolve(new SqliteStore(location.path, { synchronous: location.synchronous }));
  },
  async cleanup() {
    for (const store of stores) await store.close().catch(() => {});
    for (const dir of dirs) dir.cleanup();
    stores = [];
    dirs = [];
  },
  legacy() {
    // Schema 2, as Stepwise wrote it before this one: no event versions, no change ids.
    const dir = tempDir('stepwise-store-');
    dirs.push(dir);
    const old = new Database(dir.db);
    old.pragma('journal_mode = WAL');
    for (const migration of MIGRATIONS.slice(0, 2)) old.exec(migration.sql);
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.pragma('user_version = 2');
    old.exec(`
      INSERT INTO workflows (id, name, draft, created_at, updated_at) VALUES ('w', 'W', NULL, 1, 1);
      INSERT INTO workflow_versions VALUES ('w', 1, 'hash', '{}', NULL, 1);
      INSERT INTO runs (id, workflow_id, version, status, input, last_seq, created_at, updated_at)
        VALUES ('r1', 'w', 1, 'running', '{"n":1}', 1, 5, 5);
      INSERT INTO events VALUES ('r1', 1, 'RunStarted', NULL, NULL, NULL,
        '{"workflowId":"w","version":1,"input":{"n":1},"triggerNodeId":"start","parentRunId":null}', 5);`);
    old.close();
    return Promise.resolve({ kind: 'sqlite', path: dir.db, synchronous: 'NORMAL' });
  },
});

describe('SQLite store', () => {
  it('records the schema it migrated to', async () => {
    const dir = tempDir('stepwise-store-');
    try {
      await new SqliteStore(dir.db).close();
      const raw = new Database(dir.db, { readonly: true });
      expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(raw.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
      raw.close();
    } finally {
      dir.cleanup();
    }
  });

  it('refuses an event that does not match its schema, naming the run, the event and the field', async () => {
    const dir = tempDir('stepwise-store-');
    try {
      const store = new SqliteStore(dir.db, { synchronous: 'NORMAL' });
      const raw = new Database(dir.db);
      raw.exec(`
        INSERT INTO workflows (id, name, draft, created_at, updated_at) VALUES ('w', 'W', NULL, 1, 1);
        INSERT INTO workflow_versions VALUES ('w', 1, 'hash', '{}', NULL, 1);
        INSERT INTO runs (id, workflow_id, version, status, input, last_seq, created_at, updated_at)
          VALUES ('r1', 'w', 1, 'running', 'null', 2, 5, 5);
        INSERT INTO events (run_id, seq, type, activation_id, node_id, attempt, data, at) VALUES
          ('r1', 1, 'RunStarted', NULL, NULL, NULL,
           '{"workflowId":"w","version":1,"input":null,"triggerNodeId":"start","parentRunId":null}', 5),
          ('r1', 2, 'NodeCompleted', 'a', 'a', 1, '{"port":7,"output":null}', 6),
          ('r1', 3, 'NodeTeleported', 'a', 'a', 1, '{}', 7),
          ('r1', 4, 'NodeStarted', 'a', 'a', 1, '{"worker":"w","recovered":false}', 8);
        UPDATE events SET v = 9 WHERE seq = 4;`);
      raw.close();
      await expect(store.readEvents('r1', 1, 1)).rejects.toThrow(
        'event #2 of run r1 (NodeCompleted) does not match its schema: data.port: Invalid input',
      );
      await expect(store.readEvents('r1', 2, 1)).rejects.toThrow(
        'event #3 of run r1 (NodeTeleported): unknown event type',
      );
      await expect(store.readEvents('r1', 3, 1)).rejects.toThrow(
        'event #4 of run r1 (NodeStarted) was written by a newer Stepwise (shape v9; this version reads up to v1)',
      );
      await store.close();
    } finally {
      dir.cleanup();
    }
  });
});
