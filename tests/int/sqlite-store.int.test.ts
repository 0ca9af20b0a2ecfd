// The SQLite store: the conformance suite every store passes, and what is SQLite's own (migrating
// a file written by an older schema, refusing a corrupt event by name).
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../engine/journal/events.js';
import {
  APPLICATION_ID,
  MIGRATIONS,
  noWork,
  SqliteStore,
  type Store,
  type StoreLocation,
} from '../../engine/store/index.js';
import { LARGE_VALUE_CHARS } from '../../engine/store/sqlite/large-values.js';
import { chain, tempDir } from '../support/harness.js';
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

  it('keeps inline an event whose fields are each under the large-value size though their sum is not', async () => {
    const dir = tempDir('stepwise-store-');
    try {
      const store = new SqliteStore(dir.db, { synchronous: 'NORMAL' });
      await store.workflows.saveVersion(chain('w', []), null, 1);
      // The output's JSON is 2 characters under the threshold; with the port, the data is over it.
      const output = 'y'.repeat(LARGE_VALUE_CHARS - 4);
      expect(JSON.stringify({ port: 'out', output }).length).toBeGreaterThan(LARGE_VALUE_CHARS);
      const events: JournalEvent[] = [
        {
          seq: 1,
          at: 1,
          type: 'NodeCompleted',
          activationId: 'a',
          nodeId: 'a',
          attempt: 1,
          data: { port: 'out', output },
        },
      ];
      const write = {
        runId: 'r1',
        create: { runId: 'r1', workflowId: 'w', version: 1, input: null, parentRunId: null },
        expectedLastSeq: 0,
        events,
        projection: { status: 'running' as const, output: null, error: null, lastSeq: 1, finishedAt: null },
        clear: false,
        work: noWork(),
        leases: [],
      };
      expect(await store.commit({ workerId: null, at: 1, runs: [write] })).toEqual({ ok: true, claimed: [] });
      const raw = new Database(dir.db, { readonly: true });
      const row = raw
        .prepare<[], { values: number; refs: string | null }>(
          'SELECT (SELECT count(*) FROM large_values) AS "values", (SELECT refs FROM events) AS refs',
        )
        .get();
      raw.close();
      expect(row).toEqual({ values: 0, refs: null });
      expect(await store.readEvents('r1', 0)).toEqual(events);
      await store.close();
    } finally {
      dir.cleanup();
    }
  });

  it('keeps a large value once however many rows hold it, and names one that has gone missing', async () => {
    const dir = tempDir('stepwise-store-');
    try {
      const store = new SqliteStore(dir.db, { synchronous: 'NORMAL' });
      await store.workflows.saveVersion(chain('w', []), null, 1);
      const value = { text: 'z'.repeat(100_000) };
      const event = (seq: number, type: 'NodeScheduled' | 'NodeCompleted'): JournalEvent =>
        type === 'NodeScheduled'
          ? { seq, at: 1, type, activationId: `a${seq}`, nodeId: 'a', attempt: 1, data: { input: value } }
          : {
              seq,
              at: 1,
              type,
              activationId: `a${seq}`,
              nodeId: 'a',
              attempt: 1,
              data: { port: 'out', output: value },
            };
      const events = [event(1, 'NodeScheduled'), event(2, 'NodeCompleted'), event(3, 'NodeScheduled')];
      expect(
        await store.commit({
          workerId: null,
          at: 1,
          runs: [
            {
              runId: 'r1',
              create: { runId: 'r1', workflowId: 'w', version: 1, input: value, parentRunId: null },
              expectedLastSeq: 0,
              events,
              projection: { status: 'completed', output: value, error: null, lastSeq: 3, finishedAt: 1 },
              clear: true,
              work: noWork(),
              leases: [],
            },
          ],
        }),
      ).toEqual({ ok: true, claimed: [] });
      const raw = new Database(dir.db);
      const sizes = raw
        .prepare<[], { values: number; valueBytes: number; eventBytes: number; runBytes: number }>(
          `SELECT (SELECT count(*) FROM large_values) AS "values",
                  (SELECT sum(length(json)) FROM large_values) AS valueBytes,
                  (SELECT sum(length(data)) FROM events) AS eventBytes,
                  (SELECT length(input) + length(output) FROM runs) AS runBytes`,
        )
        .get();
      expect(sizes).toMatchObject({ values: 1, valueBytes: JSON.stringify(value).length });
      expect(sizes?.eventBytes).toBeLessThan(200);
      expect(sizes?.runBytes).toBeLessThan(20);
      expect(await store.readEvents('r1', 0)).toEqual(events);
      expect(await store.getRun('r1')).toMatchObject({ input: value, output: value });
      raw.exec('DELETE FROM large_values');
      raw.close();
      await expect(store.readEvents('r1', 1, 1)).rejects.toThrow(
        /^event #2 of run r1\.output: its stored value [0-9a-f]{12}… is missing \(the database is damaged\)$/,
      );
      await store.close();
    } finally {
      dir.cleanup();
    }
  });
});
