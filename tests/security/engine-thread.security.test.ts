// User code never runs on the engine thread: while a code node computes for longer than a lease,
// its worker still commits, renews and answers — so a second worker takes nothing over, and the
// payment of an unrelated run is sent once. Real CLI workers on one database file, a real server.
import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chain,
  finished,
  node,
  runCli,
  sleep,
  spawnCli,
  startHoldingServer,
  tempDir,
  until,
  type HoldingServer,
} from '../support/harness.js';

const dir = tempDir('stepwise-engine-thread-');
let server: HoldingServer;
beforeAll(async () => {
  server = await startHoldingServer();
});
afterAll(async () => {
  await server.close();
  dir.cleanup();
});

function starts(db: string): { node: string; worker: string; recovered: number }[] {
  const raw = new Database(db, { readonly: true });
  try {
    return raw
      .prepare(
        `SELECT node_id AS node, json_extract(data, '$.worker') AS worker, json_extract(data, '$.recovered') AS recovered
         FROM events WHERE type = 'NodeStarted' AND node_id IN ('busy', 'pay') ORDER BY seq`,
      )
      .all() as { node: string; worker: string; recovered: number }[];
  } finally {
    raw.close();
  }
}

function save(name: string, graph: unknown): string {
  const file = join(dir.path, `${name}.json`);
  writeFileSync(file, JSON.stringify(graph));
  return file;
}

describe('the engine thread', () => {
  it(
    'keeps its leases while user code runs longer than a lease, and an unrelated payment is sent once',
    { timeout: 120_000 },
    async () => {
      const pay = save(
        'pay',
        chain('pay', [node('pay', 'http.request', { method: 'POST', url: `${server.url}/pay`, timeoutMs: 4000 })]),
      );
      // 14 s of computation against a 3 s lease and the payment's 9 s start-to-close limit.
      const busy = save(
        'busy',
        chain('busy', [
          node('busy', 'code', {
            code: 'const end = Date.now() + 14000; let n = 0; while (Date.now() < end) n++; return { spun: n > 0 };',
            timeoutMs: 30_000,
          }),
        ]),
      );
      const workers: ChildProcess[] = [];
      try {
        expect((await runCli(['start', pay, '--json'], { db: dir.db })).code).toBe(0);
        const first = spawnCli(['worker', '--until-idle', '--lease-ms', '3000'], { db: dir.db });
        workers.push(first);
        const firstDone = finished(first);
        await until(() => server.held.length === 1, 'the payment request', 30_000);
        // The payment is in flight; now the code node starts on the same worker.
        expect((await runCli(['start', busy, '--json'], { db: dir.db })).code).toBe(0);
        await until(() => starts(dir.db).some((start) => start.node === 'busy'), 'the busy node to start', 30_000);
        const second = spawnCli(['worker', '--until-idle', '--lease-ms', '3000'], { db: dir.db });
        workers.push(second);
        const secondDone = finished(second);
        // The answer arrives while the code runs (on the engine thread, it would wait for the code).
        await sleep(1500);
        server.answer(0, { paid: true });

        const [firstResult, secondResult] = await Promise.race([
          Promise.all([firstDone, secondDone]),
          sleep(60_000).then(() => {
            throw new Error(`the workers did not finish; the payment was sent ${server.held.length} times`);
          }),
        ]);
        expect(firstResult.code, firstResult.stderr).toBe(0);
        expect(secondResult.code, secondResult.stderr).toBe(0);
        expect(server.held).toHaveLength(1);
        const recorded = starts(dir.db);
        expect(recorded).toHaveLength(2);
        const firstWorker = recorded[0]?.worker;
        expect(recorded).toEqual([
          { node: 'pay', worker: firstWorker, recovered: 0 },
          { node: 'busy', worker: firstWorker, recovered: 0 },
        ]);
        const shown = JSON.parse((await runCli(['runs', '--json'], { db: dir.db })).stdout) as {
          runs: { status: string }[];
        };
        expect(shown.runs.map((run) => run.status)).toEqual(['completed', 'completed']);
      } finally {
        for (const worker of workers) worker.kill('SIGKILL');
        // Requests a taken-over activation sent again are answered, so no client waits on them.
        for (const [index, held] of server.held.entries()) if (!held.response.writableEnded) server.answer(index, {});
      }
    },
  );
});
