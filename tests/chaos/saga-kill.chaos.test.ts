// Crash test of saga compensation: a real `stepwise worker` process is killed with SIGKILL while
// a compensation's call is under way (the refund done, the customer's deletion sent). The next
// worker resumes the compensation: the deletion is sent again with the same Idempotency-Key, the
// refund is never sent again, the run ends `compensated`, and its journal replays.
import { writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/runtime/engine.js';
import { edge, finished, node, readBody, runCli, spawnCli, tempDir, until, workflow } from '../support/harness.js';

const calls: { path: string; key: string | undefined }[] = [];
/** While set, the deletion is held unanswered (the worker dies waiting for it). */
let holdDeletion = true;
const held: ServerResponse[] = [];

const server = createServer((request, response) => {
  void readBody(request).then(() => {
    const path = request.url ?? '';
    const key = request.headers['idempotency-key'];
    calls.push({ path, key: typeof key === 'string' ? key : undefined });
    if (path === '/customers/delete' && holdDeletion) {
      held.push(response);
      return;
    }
    response.writeHead(path === '/provision' ? 400 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ id: `${path.slice(1)}-1` }));
  });
});

describe('saga compensation under SIGKILL', () => {
  const dir = tempDir('stepwise-saga-chaos-');
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    dir.cleanup();
  });

  it(
    'a worker killed mid-compensation: the next one finishes it without repeating the refund',
    { timeout: 120_000 },
    async () => {
      const post = (id: string, path: string) => node(id, 'http.request', { method: 'POST', url: `${url}${path}` });
      const file = join(dir.path, 'signup.stepwise.json');
      writeFileSync(
        file,
        JSON.stringify(
          workflow(
            'signup-chaos',
            [
              node('start', 'trigger.manual'),
              post('customer', '/customers'),
              post('charge', '/charges'),
              post('provision', '/provision'),
              post('deleteCustomer', '/customers/delete'),
              post('refund', '/refunds'),
            ],
            [
              edge('start', 'customer'),
              edge('customer', 'charge'),
              edge('charge', 'provision'),
              edge('customer:undo', 'deleteCustomer'),
              edge('charge:undo', 'refund'),
            ],
          ),
        ),
      );
      const db = dir.db;
      const started = await runCli(['start', file, '--input', '{"plan":"pro"}', '--json'], { db });
      expect(started.code, started.stderr).toBe(0);
      const { runId } = JSON.parse(started.stdout) as { runId: string };

      const worker = spawnCli(['worker'], { db });
      const exited = finished(worker);
      await until(() => held.length === 1, 'the customer deletion to be sent', 60_000);
      worker.kill('SIGKILL');
      expect((await exited).signal).toBe('SIGKILL');

      holdDeletion = false;
      const next = await runCli(['worker', '--until-idle'], { db });
      expect(next.code, next.stderr).toBe(0);

      const engine = Engine.open({ dbPath: db, readonly: true });
      try {
        const detail = await engine.queries.get(runId);
        expect(detail?.status).toBe('compensated');
        expect(calls.map((call) => call.path)).toEqual([
          '/customers',
          '/charges',
          '/provision',
          '/refunds',
          '/customers/delete',
          '/customers/delete',
        ]);
        expect(calls[4]?.key).toBe(`${runId}:deleteCustomer`);
        expect(calls[5]?.key).toBe(calls[4]?.key);
        const starts = detail?.events.filter(
          (event) => event.type === 'NodeStarted' && event.nodeId === 'deleteCustomer',
        );
        expect(starts?.map((event) => event.type === 'NodeStarted' && event.data.recovered)).toEqual([false, true]);
        expect((await engine.queries.verifyReplay(runId)).ok).toBe(true);
      } finally {
        await engine.close();
      }
    },
  );
});
