// Database faults, with the real CLI on real files: a corrupt file is refused before any write, a
// read-only folder is named and still readable, `serve` on a bad file says so in one line, a full
// disk ends in a bounded time without losing what was committed, and the files are owner-only.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/runtime/engine.js';
import { TEST_SPARE_PAGES_ENV } from '../../engine/store/index.js';
import { runWorkflow } from '../support/engine.js';
import { chain, finished, node, printed, runCli, spawnCli, tempDir, type CliOptions } from '../support/harness.js';

const dir = tempDir('stepwise-dbfaults-');
chmodSync(dir.path, 0o755); // the CLI may run as another user (below)
afterAll(() => {
  chmodTree(dir.path, 0o755);
  dir.cleanup();
});

const HELLO = 'assets/templates/hello.stepwise.json';
// Root ignores file modes: the CLI then runs as `nobody`, who meets them as any user does.
const AS_USER: Pick<CliOptions, 'uid' | 'gid'> = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
// `nobody` needs to reach the project to run its CLI: a clone inside an owner-only home cannot be.
const CLI_REACHABLE =
  AS_USER.uid === undefined ||
  spawnSync(process.execPath, ['bin/stepwise.js', '--help'], { uid: AS_USER.uid, gid: AS_USER.gid }).status === 0;
if (!CLI_REACHABLE)
  process.stderr.write('database.security: the project is not readable by nobody; read-only folder tests skipped\n');

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function chmodTree(path: string, folderMode: number): void {
  if (!existsSync(path)) return;
  chmodSync(path, folderMode);
  for (const entry of readdirSync(path, { withFileTypes: true }))
    if (entry.isDirectory()) chmodTree(join(path, entry.name), folderMode);
}

/** The folder and its files become the CLI user's, and the folder read-only. */
function makeReadOnly(folder: string): void {
  if (AS_USER.uid !== undefined && AS_USER.gid !== undefined) {
    chownSync(folder, AS_USER.uid, AS_USER.gid);
    for (const name of readdirSync(folder)) chownSync(join(folder, name), AS_USER.uid, AS_USER.gid);
  }
  chmodSync(folder, 0o555);
}

/** A database with finished runs and some still to execute, closed cleanly (no -wal). */
async function databaseWithRuns(path: string, pending: number): Promise<string[]> {
  const engine = Engine.open({ dbPath: path });
  try {
    const saved = await engine.workflows.save(readFileSync(HELLO, 'utf8'));
    const start = () => engine.commands.start(saved.workflowId, { version: saved.version, input: { name: 'Ada' } });
    for (let i = 0; i < 30; i += 1) await start();
    await engine.runUntilIdle();
    const ids: string[] = [];
    for (let i = 0; i < pending; i += 1) ids.push((await start()).runId);
    return ids;
  } finally {
    await engine.close();
  }
}

describe('database faults', () => {
  it('refuses a corrupt database before writing: one error naming the file, and the file unchanged', async () => {
    const db = join(dir.path, 'corrupt.db');
    await databaseWithRuns(db, 10);
    // Damage a leaf page of the journal in the middle of the file: the worker's reads need not touch it.
    const { pageSize, page } = (() => {
      const sqlite = new Database(db, { readonly: true });
      try {
        const pages = sqlite
          .prepare<[], { pageno: number }>("SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf'")
          .all()
          .map((row) => row.pageno);
        return { pageSize: sqlite.pragma('page_size', { simple: true }) as number, page: pages[pages.length >> 1] };
      } finally {
        sqlite.close();
      }
    })();
    expect(page).toBeGreaterThan(1);
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(200, 0xff), 0, 200, ((page ?? 0) - 1) * pageSize + 8);
    closeSync(fd);
    const before = sha256(db);

    const worker = await runCli(['worker', '--until-idle'], { db });
    expect(worker.code).toBe(1);
    expect(worker.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^stepwise: .*corrupt\.db is corrupt \(/)]);
    expect(worker.stderr).toMatch(/will not write to it \(the file was not modified\)/);
    expect(sha256(db)).toBe(before);
    expect(existsSync(`${db}-wal`)).toBe(false);

    const start = await runCli(['start', HELLO], { db });
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/is corrupt/);
    expect(sha256(db)).toBe(before);
  }, 60_000);

  it('refuses a truncated database file by its header, without modifying it', async () => {
    const db = join(dir.path, 'truncated.db');
    await databaseWithRuns(db, 1);
    writeFileSync(db, readFileSync(db).subarray(0, statSync(db).size - 1000));
    const before = sha256(db);
    const worker = await runCli(['worker', '--until-idle'], { db });
    expect(worker.code).toBe(1);
    expect(worker.stderr).toMatch(/truncated\.db is corrupt: its size \(\d+ bytes\) is not a whole number of/);
    expect(sha256(db)).toBe(before);
  }, 60_000);

  it.runIf(CLI_REACHABLE)(
    'names a read-only folder, and runs, show, export and validate still work in it',
    async () => {
      const folder = join(dir.path, 'readonly-clean');
      mkdirSync(folder);
      const db = join(folder, 'stepwise.db');
      await databaseWithRuns(db, 0);
      expect(existsSync(`${db}-wal`)).toBe(false);
      makeReadOnly(folder);
      const cli = (...args: string[]) => runCli(args, { db, ...AS_USER });

      const start = await cli('start', HELLO);
      expect(start.code).toBe(1);
      expect(start.stderr).toContain(`the folder ${folder}/ is not writable`);
      expect(start.stderr).not.toMatch(/corrupt/);

      const runs = await cli('runs', '--json');
      expect(runs.code, runs.stderr).toBe(0);
      const listed = (JSON.parse(runs.stdout) as { runs: { runId: string; status: string }[] }).runs;
      expect(listed).toHaveLength(30);
      const runId = listed[0]?.runId ?? '';
      const shown = await cli('show', runId, '--json');
      expect(shown.code, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({ runId, status: 'completed' });
      const exported = await cli('export', runId);
      expect(exported.code, exported.stderr).toBe(0);
      expect(JSON.parse(exported.stdout)).toMatchObject({ run: { runId } });
      expect((await cli('validate', HELLO)).code).toBe(0);
      expect(readdirSync(folder)).toEqual(['stepwise.db']);
    },
    60_000,
  );

  it.runIf(CLI_REACHABLE)(
    'reads committed changes still in the -wal of a read-only folder',
    async () => {
      const folder = join(dir.path, 'readonly-wal');
      mkdirSync(folder);
      const db = join(folder, 'stepwise.db');
      // The engine stays open: its last commit is in the -wal only, not yet checkpointed.
      const engine = Engine.open({ dbPath: db });
      try {
        const detail = await runWorkflow(engine, chain('wal', [node('c', 'code', { code: 'return 7;' })]));
        expect(detail.status).toBe('completed');
        await engine.stopWorker();
        expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
        makeReadOnly(folder);
        const shown = await runCli(['show', detail.runId, '--json'], { db, ...AS_USER });
        expect(shown.code, shown.stderr).toBe(0);
        expect(JSON.parse(shown.stdout)).toMatchObject({ runId: detail.runId, status: 'completed', output: 7 });
      } finally {
        chmodSync(folder, 0o755);
        await engine.close();
      }
    },
    60_000,
  );

  it('serve on a bad database prints one line and exits non-zero', async () => {
    const garbage = join(dir.path, 'garbage.db');
    writeFileSync(garbage, 'this is not a database, '.repeat(20));
    for (const db of [garbage]) {
      const child = spawnCli(['serve', '--port', '0', '--db', db]);
      // Restarting the host forever would never exit: stop it and fail on the exit code.
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const result = await finished(child);
      clearTimeout(timer);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^stepwise: .*garbage\.db is not a Stepwise database or is corrupt: it is not an SQLite file/,
      );
    }
  }, 60_000);

  it('backs off on a full disk, stops with a clear error in bounded time, and loses nothing committed', async () => {
    const db = join(dir.path, 'full.db');
    const flow = join(dir.path, 'big.json');
    writeFileSync(
      flow,
      JSON.stringify(chain('big', [node('make', 'code', { code: "return { text: 'x'.repeat(200000) };" })])),
    );
    const started = await runCli(['start', flow, '--json'], { db });
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };

    // Three pages to spare: the 200 KB output cannot be committed, as on a full disk.
    const begun = Date.now();
    const full = await runCli(['worker', '--until-idle', '--disk-full-timeout', '3'], {
      db,
      env: { [TEST_SPARE_PAGES_ENV]: '3' },
    });
    const elapsed = Date.now() - begun;
    expect(full.code).toBe(1);
    expect(elapsed).toBeLessThan(25_000);
    expect(full.stderr).toMatch(
      new RegExp(
        `stepwise: database or disk is full: .*full\\.db stayed full for [\\d.]+ s; nothing was lost: the last committed step is event #\\d+ \\(NodeStarted "make"\\) of run ${runId}`,
      ),
    );
    // Once per backoff step (200 ms doubling), not once per attempt.
    const retries = full.stderr.split('\n').filter((line) => line.includes('will retry'));
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.length).toBeLessThanOrEqual(6);
    expect(new Set(retries).size).toBe(retries.length);

    const resumed = await runCli(['worker', '--until-idle'], { db });
    expect(resumed.code, resumed.stderr).toBe(0);
    const shown = JSON.parse((await runCli(['show', runId, '--json'], { db })).stdout) as {
      status: string;
      output: { text: string };
    };
    expect(shown.status).toBe('completed');
    expect(shown.output.text).toHaveLength(200000);
  }, 90_000);

  it('creates the database, its -wal and -shm and its folders owner-only whatever the umask', async () => {
    const db = join(dir.path, 'fresh', 'nested', 'stepwise.db');
    const previous = process.umask(0);
    let worker;
    try {
      worker = spawnCli(['worker'], { db });
    } finally {
      process.umask(previous);
    }
    const done = finished(worker);
    try {
      await printed(worker, 'running');
      expect(mode(join(dir.path, 'fresh'))).toBe(0o700);
      expect(mode(join(dir.path, 'fresh', 'nested'))).toBe(0o700);
      for (const file of [db, `${db}-wal`, `${db}-shm`]) expect([file, mode(file)]).toEqual([file, 0o600]);
    } finally {
      worker.kill('SIGTERM');
      await done;
    }
  }, 60_000);

  it('tightens an existing database file to owner-only when it opens it for writing', async () => {
    const db = join(dir.path, 'loose.db');
    await databaseWithRuns(db, 0);
    chmodSync(db, 0o644);
    const started = await runCli(['start', HELLO], { db });
    expect(started.code, started.stderr).toBe(0);
    expect(mode(db)).toBe(0o600);
  }, 60_000);
});
