// Bounded sizes (issue 7, section 2): a node's output is capped at its limit, values nested too
// deep are refused by name before anything recursive sees them (run input, node config, outputs),
// and a large value is stored once however many events and rows refer to it.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiError, EngineClient, formatWorkflowFile, WebSocketConnection } from '../../engine/api/index.js';
import { serve, type ServedApp } from '../../engine/host/serve.js';
import { OUTPUT_LIMIT, type Workflow } from '../../engine/model/workflow.js';
import { z } from 'zod';
import { NodeRegistry } from '../../engine/registry/index.js';
import { defineNode, NO_RETRY } from '../../engine/sdk/index.js';
import { defaultRegistry, Engine } from '../../engine/runtime/engine.js';
import { validateWorkflow } from '../../engine/validate/index.js';
import { builtinNodes } from '../../nodes/index.js';
import { dbPathOf, readDb, runWorkflow, testEngine } from '../support/engine.js';
import { chain, node, runCli, tempDir } from '../support/harness.js';

const registry = defaultRegistry();

/** A registry with a node type whose output nests 20,000 objects deep (a node in process, not the sandbox). */
function deepOutputRegistry(): NodeRegistry {
  const deepOutput = defineNode({
    type: 'test.deep-output',
    typeVersion: 1,
    title: 'Deep output',
    description: 'Returns a value nested 20,000 levels deep.',
    category: 'Data',
    icon: 'alert',
    ports: { in: ['in'], out: ['out'] },
    config: z.strictObject({}),
    retry: NO_RETRY,
    sideEffects: 'pure',
    execute: () => ({ port: 'out', output: nested(20_000) }),
  });
  return new NodeRegistry([...builtinNodes, deepOutput]);
}

/** JSON text of `{"a":{"a":…1…}}`, `levels` objects deep. */
function nestedText(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

const nested = (levels: number): unknown => JSON.parse(nestedText(levels));

/** A code node whose output is a string of `chars` characters (its JSON is `chars + 2` bytes). */
const bigString = (id: string, chars: number, extra = {}) =>
  node(id, 'code', { code: `return 'x'.repeat(${chars});` }, extra);

describe('a node output over its limit', () => {
  it('fails the node, not retried, with a message that names the limit and how to raise it', async () => {
    const engine = testEngine();
    const run = await runWorkflow(engine, chain('too-big', [bigString('big', OUTPUT_LIMIT.defaultBytes)]));
    expect(run.status).toBe('failed');
    const failed = run.activations.find((activation) => activation.nodeId === 'big');
    const bytes = OUTPUT_LIMIT.defaultBytes + 2;
    expect(failed?.error).toMatchObject({
      kind: 'node.output-too-large',
      retryable: false,
      message: `output is ${bytes} bytes, over this node's output limit of ${OUTPUT_LIMIT.defaultBytes} bytes; raise the node's Output limit (maxOutputBytes, up to 16 MiB)`,
      details: { bytes, limitBytes: OUTPUT_LIMIT.defaultBytes },
    });
    expect(failed?.attempt).toBe(1);
    expect(run.events.filter((event) => event.type === 'RetryScheduled')).toEqual([]);
    // The failure keeps the sizes, not the value that was too large to keep.
    const failures = readDb(dbPathOf(engine), (db) =>
      db
        .prepare<[string], { bytes: number }>(
          "SELECT length(data) AS bytes FROM events WHERE run_id = ? AND type IN ('NodeFailed', 'RunFailed')",
        )
        .all(run.runId),
    );
    expect(failures.length).toBeGreaterThan(0);
    for (const row of failures) expect(row.bytes).toBeLessThan(2000);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    // 400,000 "é" are 400,002 characters of JSON but 800,002 bytes: over a 600,000-byte limit.
    const code = "return 'é'.repeat(400000);";
    const run = await runWorkflow(
      testEngine(),
      chain('utf8', [node('accents', 'code', { code }, { maxOutputBytes: 600_000 })]),
    );
    expect(run.activations.find((activation) => activation.nodeId === 'accents')?.error).toMatchObject({
      kind: 'node.output-too-large',
      details: { bytes: 800_002, limitBytes: 600_000 },
    });
  });

  it('passes once the node raises its own limit, and only that node', async () => {
    const engine = testEngine();
    const chars = 2 * 1024 * 1024;
    const flow = (limit?: number) =>
      chain(limit === undefined ? 'default-limit' : 'raised-limit', [
        bigString('big', chars, limit === undefined ? {} : { maxOutputBytes: limit }),
        node('size', 'code', { code: 'return input.length;' }),
      ]);
    const refused = await runWorkflow(engine, flow());
    expect(refused.activations.find((activation) => activation.nodeId === 'big')?.error).toMatchObject({
      kind: 'node.output-too-large',
    });
    const raised = await runWorkflow(engine, flow(3 * 1024 * 1024));
    expect(raised.status).toBe('completed');
    expect(raised.output).toBe(chars);
    // The next node keeps the default limit: passing the 2 MiB value on unchanged is refused there.
    const passedOn = await runWorkflow(
      engine,
      chain('passed-on', [
        bigString('big', chars, { maxOutputBytes: 3 * 1024 * 1024 }),
        node('same', 'code', { code: 'return input;' }),
      ]),
    );
    expect(passedOn.activations.find((activation) => activation.nodeId === 'same')?.error).toMatchObject({
      kind: 'node.output-too-large',
      details: { bytes: chars + 2, limitBytes: OUTPUT_LIMIT.defaultBytes },
    });
  });

  it('refuses a limit over the 16 MiB hard maximum in validation', () => {
    const graph = chain('over-max', [bigString('big', 10, { maxOutputBytes: OUTPUT_LIMIT.maxBytes + 1 })]);
    const result = validateWorkflow(graph, registry);
    expect(result.ok).toBe(false);
    expect(result.problems.map((problem) => problem.message)).toContain(
      `node "big" (nodes[1]).maxOutputBytes: must be at most ${OUTPUT_LIMIT.maxBytes} bytes (16 MiB)`,
    );
    const atMax = chain('at-max', [bigString('big', 10, { maxOutputBytes: OUTPUT_LIMIT.maxBytes })]);
    expect(validateWorkflow(atMax, registry).ok).toBe(true);
  });
});

describe('values nested too deep', () => {
  const deepMessage = /is nested more than 64 levels deep \(at input\.a\.a\.a\.a\.a\.a….a\.a\.a\.a\); flatten it/;

  it('a node config nested 20,000 deep is a validation problem naming the node and field', async () => {
    const graph = chain('deep-config', [
      node('post', 'http.request', { method: 'POST', url: 'http://127.0.0.1:9/x', body: nested(20_000) }),
    ]);
    const result = validateWorkflow(graph, registry);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        nodeId: 'post',
        message: expect.stringMatching(
          /^node "post" \(nodes\[1\]\)\.config\.body: is nested more than 64 levels deep \(at config\.body\.a/,
        ) as unknown,
      }),
    ]);
    // The engine refuses to save it (nothing is stored) with the same problem, not a stack overflow.
    const engine = testEngine();
    await expect(engine.workflows.save(graph)).rejects.toThrow(/config\.body: is nested more than 64 levels deep/);
    // 64 levels are fine: the config object is one, so its body may nest 63.
    const fine = chain('fine', [node('post', 'http.request', { url: 'http://127.0.0.1:9/x', body: nested(63) })]);
    expect(validateWorkflow(fine, registry).ok).toBe(true);
    const over = chain('over', [node('post', 'http.request', { url: 'http://127.0.0.1:9/x', body: nested(64) })]);
    expect(validateWorkflow(over, registry).ok).toBe(false);
  });

  it('the CLI refuses a workflow file with a deep config in one clear line, no stack trace', async () => {
    const dir = tempDir();
    try {
      const graph = chain('deep-file', [node('post', 'http.request', { url: 'http://127.0.0.1:9/x', body: {} })]);
      const text = formatWorkflowFile(graph).replace('"body": {}', `"body": ${nestedText(20_000)}`);
      const file = join(dir.path, 'deep.stepwise.json');
      writeFileSync(file, text);
      const run = await runCli(['run', file], { db: dir.db });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/node "post" \(nodes\[1\]\)\.config\.body: is nested more than 64 levels deep/);
      expect(run.stderr).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
    } finally {
      dir.cleanup();
    }
  });

  it('the CLI refuses an --input nested 20,000 deep with a clear message, no stack trace', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'echo.stepwise.json');
      writeFileSync(file, formatWorkflowFile(chain('echo', [])));
      const run = await runCli(['run', file, '--input', nestedText(20_000)], { db: dir.db });
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toMatch(new RegExp(`^stepwise: run input ${deepMessage.source}$`));
      // Nothing was started.
      const runs = await runCli(['runs', '--json'], { db: dir.db });
      expect(JSON.parse(runs.stdout)).toMatchObject({ runs: [] });
    } finally {
      dir.cleanup();
    }
  });

  describe('through the API (served mode)', () => {
    const dir = tempDir('stepwise-sizes-api-');
    let app: ServedApp;
    let client: EngineClient;
    beforeAll(async () => {
      app = await serve({ dbPath: dir.db, port: 0 });
      const url = `ws://127.0.0.1:${app.port}/api/ws?token=${app.token}`;
      client = new EngineClient(new WebSocketConnection(url, (address) => new WebSocket(address)));
      await client.api.importWorkflow({ text: formatWorkflowFile(chain('echo', [])) });
    });
    afterAll(async () => {
      client.stop();
      await app.close();
      dir.cleanup();
    });

    it('startRun refuses an input nested 20,000 deep, naming where, and the host stays up', async () => {
      // Sent as raw text: a client serialising it would overflow its own stack first.
      const reply = await rawRequest(
        `ws://127.0.0.1:${app.port}/api/ws?token=${app.token}`,
        `{"t":"req","id":7,"method":"startRun","params":{"workflowId":"echo","input":${nestedText(20_000)}}}`,
      );
      // The frame itself is refused (the API's limit is 256 levels) before the run input's 64 apply.
      expect(reply).toMatchObject({ t: 'res', id: 7, ok: false, error: { code: 'bad-request' } });
      expect((reply as { error: { message: string } }).error.message).toMatch(
        /^the request is nested more than 256 levels deep \(at request\.params\.input\.a\.a.*\); flatten it$/,
      );
      const { runs } = await client.api.listRuns({});
      expect(runs).toEqual([]);
      const started = await client.api.startRun({ workflowId: 'echo', input: nested(60) });
      expect(['running', 'completed']).toContain(started.status);
    });

    it('the same through the client: an ApiError, not an internal one', async () => {
      const error = await client.api
        .startRun({ workflowId: 'echo', input: nested(65) })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: 'invalid' });
    });
  });

  it('a node output nested 20,000 deep fails the node with a clear message', async () => {
    const engine = testEngine({ registry: deepOutputRegistry() });
    const run = await runWorkflow(engine, chain('deep-output', [node('deep', 'test.deep-output')]));
    expect(run.status).toBe('failed');
    expect(run.activations.find((activation) => activation.nodeId === 'deep')?.error).toMatchObject({
      kind: 'node.output-too-deep',
      retryable: false,
      message: expect.stringMatching(
        /^test\.deep-output output is nested more than 64 levels deep \(at output\.a\.a\.a/,
      ) as unknown,
    });
  });
});

describe('a large value is stored once', () => {
  /** trigger → code (a 900 KB string) → three nodes passing it on → output. */
  const passOn = (id: string) => node(id, 'code', { code: 'return input;' });
  const largeChain = (chars: number): Workflow =>
    chain('large', [bigString('big', chars), passOn('p1'), passOn('p2'), passOn('p3')]);

  /** Bytes the database file(s) hold once the engine is closed (WAL checkpointed). */
  async function storedBytes(chars: number): Promise<{ file: number; rows: number }> {
    const dir = tempDir();
    try {
      const engine = Engine.open({ dbPath: dir.db, synchronous: 'NORMAL', pollMs: 20 });
      const run = await runWorkflow(engine, largeChain(chars));
      expect(run.status).toBe('completed');
      expect((run.output as string).length).toBe(chars);
      await engine.close();
      const rows = readDb(dir.db, (db) => {
        const total = (sql: string): number => db.prepare<[], { n: number | null }>(sql).get()?.n ?? 0;
        const tables = db
          .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
          .all()
          .map((row) => row.name);
        return (
          total('SELECT sum(length(data)) AS n FROM events') +
          total('SELECT sum(length(input) + coalesce(length(output), 0)) AS n FROM runs') +
          (tables.includes('large_values') ? total('SELECT sum(length(json)) AS n FROM large_values') : 0)
        );
      });
      return { file: statSync(dir.db).size, rows };
    } finally {
      dir.cleanup();
    }
  }

  it('a 900 KB output through five nodes grows the database by about one copy, not five', async () => {
    const large = 900_000;
    const small = await storedBytes(10);
    const big = await storedBytes(large);
    // Before: the output was kept in NodeCompleted ×4, NodeScheduled ×4, RunCompleted and the run
    // row (≈ 9 MB). One copy, plus pages and bookkeeping, stays well under two.
    expect(big.rows - small.rows).toBeGreaterThan(0.95 * large);
    expect(big.rows - small.rows).toBeLessThan(1.2 * large);
    expect(big.file - small.file).toBeLessThan(1.5 * large);
  });

  it('reads back plain values: the journal, the run and its export see the output itself', async () => {
    const engine = testEngine();
    const run = await runWorkflow(engine, largeChain(100_000));
    const value = 'x'.repeat(100_000);
    expect(run.output).toBe(value);
    const completed = run.events.filter((event) => event.type === 'NodeCompleted');
    expect(completed.map((event) => event.data.output)).toEqual([null, value, value, value, value, value]);
    const exported = await engine.queries.export(run.runId);
    expect(exported.run.output).toBe(value);
    expect(exported.events.filter((event) => event.type === 'NodeScheduled').at(-1)?.data).toEqual({ input: value });
  });
});

/** Sends one text frame on a new authenticated WebSocket and resolves with the first response frame. */
function rawRequest(url: string, text: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on('open', () => socket.send(text));
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { t: string };
      if (frame.t !== 'res') return;
      socket.close();
      resolve(frame);
    });
    socket.on('error', reject);
  });
}
