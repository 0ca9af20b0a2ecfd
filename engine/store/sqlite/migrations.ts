// Schema migrations: an ordered, named, never-edited list. `user_version` holds how many ran.
export interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: '001-initial',
    sql: `
      CREATE TABLE workflows (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        draft TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE workflow_versions (
        workflow_id TEXT NOT NULL REFERENCES workflows(id),
        version INTEGER NOT NULL,
        hash TEXT NOT NULL,
        graph TEXT NOT NULL,
        note TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (workflow_id, version),
        UNIQUE (workflow_id, hash)
      );
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        workflow_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        parent_run_id TEXT,
        last_seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER,
        FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions(workflow_id, version)
      );
      CREATE INDEX runs_by_created ON runs(created_at);
      CREATE INDEX runs_by_status ON runs(status, created_at);
      CREATE INDEX runs_by_workflow ON runs(workflow_id, version);
      CREATE TABLE events (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        activation_id TEXT,
        node_id TEXT,
        attempt INTEGER,
        data TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID;
      -- Activations to execute. A lease marks one worker executing it; an expired lease (or a
      -- dead owner) makes it claimable again: crash recovery with the same idempotency key.
      CREATE TABLE ready (
        run_id TEXT NOT NULL,
        activation_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        available_at INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        PRIMARY KEY (run_id, activation_id)
      ) WITHOUT ROWID;
      CREATE INDEX ready_by_available ON ready(available_at);
      CREATE INDEX ready_by_owner ON ready(lease_owner);
      CREATE TABLE timers (
        run_id TEXT NOT NULL,
        activation_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        node_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, activation_id, purpose)
      ) WITHOUT ROWID;
      CREATE INDEX timers_by_due ON timers(due_at);
      CREATE TABLE waits (
        run_id TEXT NOT NULL,
        activation_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        title TEXT NOT NULL,
        instructions TEXT NOT NULL,
        input TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        timeout_at INTEGER,
        decision TEXT,
        decided_by TEXT,
        decided_at INTEGER,
        comment TEXT,
        PRIMARY KEY (run_id, activation_id)
      ) WITHOUT ROWID;
      CREATE INDEX waits_by_status ON waits(status, created_at);
      CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL
      );
    `,
  },
  {
    name: '002-workflow-drafts',
    // Deleting a workflow hides it; its versions stay, because runs are pinned to them.
    sql: `
      ALTER TABLE workflows ADD COLUMN deleted_at INTEGER;
      ALTER TABLE workflows ADD COLUMN draft_updated_at INTEGER;
      UPDATE workflows SET draft_updated_at = updated_at;
    `,
  },
  {
    name: '003-event-versions-and-run-changes',
    // `v`: the shape version of each event's data (upgraded on read). `change_id`: a counter set
    // on every commit that touches a run, so other processes can follow what changed.
    // `deadline`: heartbeats renew a lease until then (the node's start-to-close limit).
    // `workers.lease_ms`: how long each worker may stay silent before others expire it.
    sql: `
      ALTER TABLE events ADD COLUMN v INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE ready ADD COLUMN deadline INTEGER;
      ALTER TABLE workers ADD COLUMN lease_ms INTEGER NOT NULL DEFAULT 10000;
      ALTER TABLE runs ADD COLUMN change_id INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX runs_by_change ON runs(change_id);
      CREATE INDEX runs_by_workflow_created ON runs(workflow_id, created_at);
    `,
  },
  {
    name: '004-large-values',
    // A large value (an output passed along a chain, a run's input and output) is kept once, keyed
    // by the sha256 of its JSON; rows that hold one keep its hash (see sqlite/large-values.ts).
    sql: `
      CREATE TABLE large_values (
        hash TEXT PRIMARY KEY,
        json TEXT NOT NULL
      );
      ALTER TABLE events ADD COLUMN refs TEXT;
      ALTER TABLE runs ADD COLUMN input_ref TEXT;
      ALTER TABLE runs ADD COLUMN output_ref TEXT;
      ALTER TABLE waits ADD COLUMN input_ref TEXT;
    `,
  },
  {
    name: '005-imported-runs',
    // A run brought in from an export (`stepwise import`): shown and stepped through, never executed.
    sql: `
      ALTER TABLE runs ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    name: '006-run-forks',
    // A fork names its origin run and the seq it was forked at; the origin lists its forks by the index.
    sql: `
      ALTER TABLE runs ADD COLUMN fork_of_run_id TEXT;
      ALTER TABLE runs ADD COLUMN fork_of_seq INTEGER;
      CREATE INDEX runs_by_fork_of ON runs(fork_of_run_id) WHERE fork_of_run_id IS NOT NULL;
    `,
  },
  {
    name: '007-wait-cards',
    // An inbox item's card (outcomes, fields, form, assignees, quorum: JSON) and the votes cast on
    // it while it stays open (a JSON array, appended to).
    sql: `
      ALTER TABLE waits ADD COLUMN card TEXT;
      ALTER TABLE waits ADD COLUMN votes TEXT;
    `,
  },
  {
    name: '008-schedules',
    // One row per schedule trigger of a workflow's latest version: its rule (JSON) and next fire
    // time. A worker fires a due row by moving `next_at` on in the commit that starts the runs.
    sql: `
      CREATE TABLE schedules (
        workflow_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        schedule TEXT NOT NULL,
        next_at INTEGER NOT NULL,
        PRIMARY KEY (workflow_id, node_id)
      ) WITHOUT ROWID;
      CREATE INDEX schedules_by_next ON schedules(next_at);
    `,
  },
  {
    name: '009-response-cache',
    // Answers nodes recorded for playback (llm.chat), by the sha-256 of what was asked: the value's
    // JSON, and when it was last used, so the least recently used go first past the cap.
    sql: `
      CREATE TABLE response_cache (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        used_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX response_cache_by_use ON response_cache(used_at);
    `,
  },
  {
    name: '010-run-children',
    // A worker scoped to one run does its child runs' work too: it finds them by their parent.
    sql: `
      CREATE INDEX runs_by_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;
    `,
  },
];
