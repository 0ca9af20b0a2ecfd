// The `stepwise` CLI as a real child process on a real database file.
import { realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/runtime/engine.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from '../../engine/store/index.js';
import {
  chain,
  edge,
  finished,
  node,
  openFiles,
  readBody,
  refundFlow,
  runCli,
  sleep,
  spawnCli,
  tempDir,
  until,
  workflow,
} from '../support/harness.js';

const dir = tempDir('stepwise-cli-');
afterAll(() => dir.cleanup());
const db = join(dir.path, 'cli.db');
const cli = (...args: string[]) => runCli(args, { db });

function file(name: string, content: unknown): string {
  const path = join(dir.path, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const approvalFlow = refundFlow();

describe('stepwise CLI', () => {
  it('runs the sample workflow from the README: exit 0 and the output', async () => {
    const result = await cli('run', 'assets/templates/hello.stepwise.json', '--input', '{"name":"Ada"}', '--json');
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ status: 'completed', output: { 'is-vip': { greeting: 'Hello, Ada!', vip: false } } });
    expect(typeof json.runId).toBe('string');
  });

  it('exits 1 for a failed run and prints the error', async () => {
    const failing = file(
      'fail.json',
      workflow(
        'f',
        [node('start', 'trigger.manual'), node('x', 'fail', { message: 'no stock' })],
        [edge('start', 'x')],
      ),
    );
    const result = await cli('run', failing);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed/);
    expect(result.stdout).toMatch(/error: node "x": no stock \[fail\]/);
  });

  it('exits 1 for a compensated run and for a failed compensation, and says which', async () => {
    const calls: string[] = [];
    const server = createServer((request, response) => {
      calls.push(request.url ?? '');
      response.writeHead(request.url === '/broken-refund' ? 500 : 200, { 'content-type': 'application/json' });
      response.end('{"id":"ch_1"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const saga = (refundPath: string) =>
      workflow(
        `saga${refundPath.replace(/\W/g, '')}`,
        [
          node('start', 'trigger.manual'),
          node('charge', 'http.request', { method: 'POST', url: `${base}/charge` }),
          node('provision', 'fail', { message: 'no capacity' }),
          node(
            'refund',
            'http.request',
            { method: 'POST', url: `${base}${refundPath}` },
            { retry: { maxAttempts: 1 } },
          ),
        ],
        [edge('start', 'charge'), edge('charge', 'provision'), edge('charge:undo', 'refund')],
      );
    try {
      const compensated = await cli('run', file('saga.json', saga('/refund')));
      expect(compensated.code, compensated.stderr).toBe(1);
      expect(compensated.stdout).toMatch(/ compensated\n/);
      expect(compensated.stdout).toMatch(
        /compensated: every completed step was undone after: node "provision": no capacity/,
      );
      expect(calls).toEqual(['/charge', '/refund']);
      const broken = await cli('run', file('saga-broken.json', saga('/broken-refund')), '--json');
      expect(broken.code).toBe(1);
      expect(JSON.parse(broken.stdout)).toMatchObject({ status: 'compensation_failed', error: { nodeId: 'refund' } });
      const text = await cli('show', (JSON.parse(broken.stdout) as { runId: string }).runId);
      expect(text.stdout).toMatch(/status\s+compensation_failed/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('exits 2 with every validation error for an invalid workflow, and for bad usage', async () => {
    const invalid = file('invalid.json', chain('bad', [node('a', 'code', {}), node('b', 'teleport')]));
    const result = await cli('run', invalid);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/node "a" \(code\) config\.code: is required/);
    expect(result.stderr).toMatch(/node "b": unknown node type "teleport"/);
    const json = await cli('run', invalid, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      problems: expect.arrayContaining([expect.objectContaining({ nodeId: 'a', field: 'code' })]),
    });
    expect((await cli('run', file('broken.json', '{ not json'))).stderr).toMatch(/not valid JSON/);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('run', invalid, '--input', '{oops')).code).toBe(2);
    expect((await cli('run', join(dir.path, 'missing.json'))).stderr).toMatch(/cannot read .*ENOENT/);
  });

  it('parks at an approval (exit 3), records one decision, and a worker finishes the run', async () => {
    const flow = file('refund.json', approvalFlow);
    const parked = await cli('run', flow, '--input', '{"amount":12}', '--json');
    expect(parked.code, parked.stderr).toBe(3);
    const { runId } = JSON.parse(parked.stdout) as { runId: string };
    expect(JSON.parse(parked.stdout)).toMatchObject({ status: 'waiting', waitingFor: ['approval "ok": Refund?'] });

    const approved = await cli('approve', runId.slice(0, 12), '--by', 'alice', '--comment', 'fine');
    expect(approved.code, approved.stderr).toBe(0);
    const again = await cli('reject', runId, '--by', 'mallory');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already decided: approved by alice at .*; a decision is recorded once/);

    const worker = await cli('worker', '--until-idle');
    expect(worker.code, worker.stderr).toBe(0);
    const shown = await cli('show', runId, '--json');
    const detail = JSON.parse(shown.stdout) as {
      status: string;
      output: unknown;
      approvals: unknown[];
      events: { type: string }[];
    };
    expect(detail).toMatchObject({ status: 'completed', output: { refunded: 12 } });
    expect(detail.approvals).toEqual([
      expect.objectContaining({ decision: 'approved', decidedBy: 'alice', comment: 'fine', input: { amount: 12 } }),
    ]);
    const text = await cli('show', runId);
    expect(text.stdout).toMatch(/workflow {2}refund v1 \(pinned/);
    expect(text.stdout).toMatch(/SignalReceived ok approved by alice — "fine"/);
  });

  it('run carries a subworkflow to its end (its code on the pool, its timer), and parks on its approval', async () => {
    // The run's worker does its child runs' work too (their ready rows and timers), and a wait on
    // a child that still works is not "parked".
    const children = [
      chain('child-code', [node('c', 'code', { code: 'return { twice: Math.abs(input.n) * 2 };' })]),
      chain('child-timer', [
        node('pause', 'wait.timer', { duration: '300ms' }),
        node('c', 'code', { code: 'return 7;' }),
      ]),
      workflow(
        'child-approval',
        [node('start', 'trigger.manual'), node('ok', 'approval', { title: 'Child OK?' }), node('end', 'output')],
        [edge('start', 'ok'), edge('ok:approved', 'end')],
      ),
    ];
    for (const child of children) {
      const saved = await cli('start', file(`${child.id}.json`, child), '--input', '{"n":1}');
      expect(saved.code, saved.stderr).toBe(0);
    }
    const parent = (childId: string) =>
      file(`parent-${childId}.json`, chain(`parent-${childId}`, [node('sub', 'subworkflow', { workflowId: childId })]));
    const viaCode = await cli('run', parent('child-code'), '--input', '{"n":-4}', '--json');
    expect(viaCode.code, viaCode.stderr).toBe(0);
    expect(JSON.parse(viaCode.stdout)).toMatchObject({ status: 'completed', output: { twice: 8 } });
    const viaTimer = await cli('run', parent('child-timer'), '--json');
    expect(viaTimer.code, viaTimer.stderr).toBe(0);
    expect(JSON.parse(viaTimer.stdout)).toMatchObject({ status: 'completed', output: 7 });
    // Parked for good: the child waits on a person. The hint says where to look.
    const viaApproval = await cli('run', parent('child-approval'));
    expect(viaApproval.code, viaApproval.stderr).toBe(3);
    expect(viaApproval.stdout).toMatch(
      /continue with: what its child runs wait for \(stepwise inbox\), then: stepwise worker/,
    );
  });

  it('start enqueues without executing; runs lists; export + replay round-trip', async () => {
    const flow = file('echo.json', chain('echo', [node('c', 'code', { code: 'return input + 1;' })]));
    const started = await cli('start', flow, '--input', '41', '--json');
    expect(started.code).toBe(0);
    const { runId, status } = JSON.parse(started.stdout) as { runId: string; status: string };
    expect(status).toBe('running');
    expect(JSON.parse((await cli('show', runId, '--json')).stdout)).toMatchObject({ status: 'running', output: null });
    expect((await cli('worker', '--until-idle')).code).toBe(0);
    expect(JSON.parse((await cli('show', runId, '--json')).stdout)).toMatchObject({ status: 'completed', output: 42 });

    const listed = JSON.parse((await cli('runs', '--json')).stdout) as { runs: { runId: string }[] };
    expect(listed.runs.map((run) => run.runId)).toContain(runId);

    const exportPath = join(dir.path, 'export.json');
    expect((await cli('export', runId, '--out', exportPath)).code).toBe(0);
    const replayed = await cli('replay', exportPath);
    expect(replayed.code, replayed.stdout + replayed.stderr).toBe(0);
    expect(replayed.stdout).toMatch(/replay matches/);

    const tampered = JSON.parse((await cli('export', runId)).stdout) as {
      format: string;
      chain?: unknown;
      events: { type: string; nodeId: string | null }[];
    };
    tampered.events = tampered.events.filter((event) => !(event.type === 'NodeScheduled' && event.nodeId === 'end'));
    // The hash chain refuses the edited journal before the orchestrator sees it…
    const refused = await cli('replay', file('tampered.json', tampered));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/replay refused: .*: event #\d+ \(\w+\) was altered/);
    // …and without a chain (an older export) the orchestrator still finds where it diverges.
    tampered.format = 'stepwise/run-export@1';
    delete tampered.chain;
    const result = await cli('replay', file('tampered-unchained.json', tampered));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/replay diverges at event #\d+/);
  });

  it('a running worker picks up runs and decisions from other processes within a second', async () => {
    const live = join(dir.path, 'live.db');
    const worker = spawnCli(['worker'], { db: live });
    const exited = finished(worker);
    try {
      const flow = file('live.json', approvalFlow);
      const started = await runCli(['start', flow, '--input', '{"amount":5}', '--json'], { db: live });
      expect(started.code, started.stdout + started.stderr).toBe(0);
      const { runId } = JSON.parse(started.stdout) as { runId: string };
      const waitFor = async (status: string): Promise<number> => {
        const since = Date.now();
        for (;;) {
          const result = await runCli(['show', runId, '--json'], { db: live });
          const shown = JSON.parse(result.stdout) as { status?: string };
          if (shown.status === status) return Date.now() - since;
          if (Date.now() - since > 10_000)
            throw new Error(`run stayed ${result.stdout} ${result.stderr} (exit ${result.code}), expected ${status}`);
          await sleep(50);
        }
      };
      await waitFor('waiting');
      expect((await runCli(['approve', runId, '--by', 'carol'], { db: live })).code).toBe(0);
      await waitFor('completed');
      // Pickup latency from the journal's own clock: the start written by the `start` process →
      // the worker's first step; the decision written by `approve` → the worker's next step.
      const { events } = JSON.parse((await runCli(['show', runId, '--json'], { db: live })).stdout) as {
        events: { type: string; nodeId: string | null; at: number }[];
      };
      const at = (type: string, nodeId: string | null) =>
        events.find((event) => event.type === type && event.nodeId === nodeId)?.at ?? Number.NaN;
      expect(at('NodeStarted', 'start') - at('RunStarted', null)).toBeLessThan(1000);
      expect(at('NodeStarted', 'pay') - at('SignalReceived', 'ok')).toBeLessThan(1000);
    } finally {
      worker.kill('SIGTERM');
    }
    const result = await exited;
    expect(result.code, result.stderr).toBe(0);
  });

  // Linux only: the proof that the race happened reads the CLI's open files from /proc.
  it.runIf(process.platform === 'linux')(
    'a process that finds a new database being migrated by another waits and uses it',
    async () => {
      // Another process creates the file, takes the write lock and migrates it, uncommitted.
      const fresh = join(dir.path, 'fresh.db');
      const other = new Database(fresh);
      other.pragma('journal_mode = WAL');
      other.exec('BEGIN IMMEDIATE');
      for (const migration of MIGRATIONS) other.exec(migration.sql);
      other.pragma(`application_id = ${APPLICATION_ID}`);
      other.pragma(`user_version = ${SCHEMA_VERSION}`);

      const child = spawnCli(['runs', '--json'], { db: fresh });
      let exited = false;
      const reader = finished(child).then((result) => {
        exited = true;
        return result;
      });
      // SQLite opens a WAL database's `-wal` file at the connection's first read, and the CLI's
      // first read of the file is the schema check in openDatabase. So once `-wal` is among the
      // CLI's open files, it has read the schema as committed so far (none) and must now wait
      // for our lock; commit only then.
      const wal = `${realpathSync(fresh)}-wal`;
      const pid = child.pid ?? Number.NaN;
      await until(() => exited || openFiles(pid).includes(wal), 'the CLI to read the new database');
      expect(exited, 'the CLI finished without waiting for the migration').toBe(false);
      other.exec('COMMIT');
      other.close();

      const result = await reader;
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ runs: [] });
    },
  );

  it('several workers on one database never run an activation twice', { timeout: 120_000 }, async () => {
    const shared = join(dir.path, 'shared.db');
    // Each run calls the gate: a worker holds at most CONCURRENCY calls, so the gate opens only
    // when another worker is executing too — no worker can take all the work before the others start.
    const gate = await startGate(CONCURRENCY + 1, 20_000);
    try {
      const flow = file(
        'many.json',
        chain('many', [
          node('a', 'code', { code: 'return input * 2;' }),
          node('call', 'http.request', { method: 'POST', url: `${gate.url}/double`, timeoutMs: 60_000 }),
          node('b', 'code', { code: 'return input.body.echo + 1;' }),
        ]),
      );
      // Five `start` processes at a time: concurrent writers, and quicker on a loaded machine.
      for (let batch = 0; batch < RUNS; batch += 5) {
        const started = await Promise.all(
          [0, 1, 2, 3, 4].map((n) => runCli(['start', flow, '--input', String(batch + n)], { db: shared })),
        );
        for (const result of started) expect(result.code, result.stderr).toBe(0);
      }
      const workers = await Promise.all(
        [1, 2, 3].map(() => runCli(['worker', '--until-idle', '--concurrency', String(CONCURRENCY)], { db: shared })),
      );
      for (const worker of workers) expect(worker.code, worker.stderr).toBe(0);
      expect(gate.mostWaiting(), 'calls waiting at the gate at once').toBeGreaterThan(CONCURRENCY);
    } finally {
      await gate.close();
    }

    const engine = Engine.open({ dbPath: shared });
    try {
      const { runs } = await engine.queries.list({}, { limit: 100 });
      expect(runs).toHaveLength(RUNS);
      const startsByActivation = new Map<string, number>();
      const workers = new Set<string>();
      for (const run of runs) {
        expect(run).toMatchObject({ status: 'completed', output: (run.input as number) * 2 + 1 });
        for (const event of await engine.queries.events(run.runId)) {
          if (event.type !== 'NodeStarted') continue;
          const key = `${run.runId}:${event.activationId}`;
          startsByActivation.set(key, (startsByActivation.get(key) ?? 0) + 1);
          workers.add(event.data.worker);
        }
      }
      // Straight from the journal: every activation of every run started exactly once…
      expect(startsByActivation.size).toBe(RUNS * 5);
      expect([...startsByActivation].filter(([, starts]) => starts !== 1)).toEqual([]);
      // …and the work really was shared.
      expect(workers.size, `workers that started activations: ${[...workers].join(', ')}`).toBeGreaterThanOrEqual(2);
    } finally {
      await engine.close();
    }
  });
});

const RUNS = 30;
const CONCURRENCY = 4;

/**
 * Answers a POST with `{ echo: <body> }`, but holds every answer until `opensAt` requests wait
 * at once (then answers all, and later ones at once), or until `deadlineMs` after the first.
 */
async function startGate(
  opensAt: number,
  deadlineMs: number,
): Promise<{ url: string; mostWaiting: () => number; close: () => Promise<void> }> {
  const waiting: (() => void)[] = [];
  let mostWaiting = 0;
  let open = false;
  let deadline: NodeJS.Timeout | undefined;
  const release = (): void => {
    open = true;
    clearTimeout(deadline);
    for (const answer of waiting.splice(0)) answer();
  };
  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const answer = (): void => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: JSON.parse(text) }));
      };
      if (open) return answer();
      waiting.push(answer);
      mostWaiting = Math.max(mostWaiting, waiting.length);
      deadline ??= setTimeout(release, deadlineMs);
      if (waiting.length >= opensAt) release();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    mostWaiting: () => mostWaiting,
    close: () =>
      new Promise<void>((resolve) => {
        release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
