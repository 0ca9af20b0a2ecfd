// Heartbeats that user code cannot block: a code node holds a worker's engine thread for longer
// than the lease, yet no other worker takes the activation over, because the heartbeat (and the
// lease renewal) runs on its own thread. Real CLI processes on one database file.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chain, finished, node, runCli, sleep, spawnCli, tempDir } from '../support/harness.js';

const dir = tempDir('stepwise-heartbeat-');
afterAll(() => dir.cleanup());

function starts(db: string): { worker: string; recovered: number }[] {
  const raw = new Database(db, { readonly: true });
  try {
    return raw
      .prepare(
        `SELECT json_extract(data, '$.worker') AS worker, json_extract(data, '$.recovered') AS recovered
         FROM events WHERE type = 'NodeStarted' AND node_id = 'busy'`,
      )
      .all() as { worker: string; recovered: number }[];
  } finally {
    raw.close();
  }
}

describe('heartbeats', () => {
  it(
    'a busy engine thread keeps its lease: no other worker runs the activation again',
    { timeout: 60_000 },
    async () => {
      const file = join(dir.path, 'busy.json');
      // 7 s of busy work on the engine thread against a 3 s lease.
      writeFileSync(
        file,
        JSON.stringify(
          chain('busy', [
            node('busy', 'code', {
              code: 'const end = Date.now() + 7000; let n = 0; while (Date.now() < end) n++; return { spun: n > 0 };',
              timeoutMs: 20_000,
            }),
          ]),
        ),
      );
      expect((await runCli(['start', file, '--json'], { db: dir.db })).code).toBe(0);
      const first = spawnCli(['worker', '--until-idle', '--lease-ms', '3000'], { db: dir.db });
      const firstDone = finished(first);
      const deadline = Date.now() + 20_000;
      while (starts(dir.db).length === 0) {
        if (Date.now() > deadline) throw new Error('the first worker never started the busy node');
        await sleep(20);
      }
      // The second worker arrives while the first one's engine thread is busy.
      const second = await runCli(['worker', '--until-idle', '--lease-ms', '3000'], { db: dir.db });
      expect(second.code, second.stderr).toBe(0);
      expect((await firstDone).code).toBe(0);

      const recorded = starts(dir.db);
      expect(recorded).toHaveLength(1);
      expect(recorded[0]?.recovered).toBe(0);
      const shown = JSON.parse((await runCli(['runs', '--json'], { db: dir.db })).stdout) as {
        runs: { status: string; output: unknown }[];
      };
      expect(shown.runs).toEqual([expect.objectContaining({ status: 'completed', output: { spun: true } })]);
    },
  );

  it('refuses a lease shorter than a few heartbeats (live workers would expire each other)', async () => {
    const result = await runCli(['worker', '--until-idle', '--lease-ms', '1500'], { db: dir.db });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--lease-ms must be at least 3000/);
  });
});
