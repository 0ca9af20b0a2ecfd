// Inputs that must be refused or named correctly (issue 7, section 5): `__proto__` keys, durations
// past what a date can hold, wrong types reported as missing, unknown option values, run input
// larger than an argument may be, and run exports edited or cut short after they were written.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatRunLine } from '../../engine/cli/format.js';
import { canonicalJson } from '../../engine/model/canonical-json.js';
import type { Workflow } from '../../engine/model/workflow.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { contentHash } from '../../engine/store/index.js';
import { validateWorkflowText } from '../../engine/validate/index.js';
import { runPinnedVersion, runWorkflow, testEngine } from '../support/engine.js';
import { chain, node, refundFlow, ROOT, runCli, startHttpSink, tempDir, type HttpSink } from '../support/harness.js';

const dir = tempDir('stepwise-inputs-');
afterAll(() => dir.cleanup());
const db = join(dir.path, 'inputs.db');
const cli = (args: string[], stdin?: string) => runCli(args, { db, ...(stdin !== undefined && { stdin }) });

/** Writes text as it is: JSON.stringify of an object literal would turn `__proto__` into a prototype. */
function file(name: string, content: unknown): string {
  const path = join(dir.path, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** A workflow posting to `url`, its HTTP node's config given as JSON text (so `__proto__` stays a key). */
function postingFlow(url: string, configText = `{"method": "POST", "url": "${url}"}`): string {
  const graph = JSON.stringify(chain('post', [node('call', 'http.request', { url })]));
  return graph.replace(`{"url":"${url}"}`, configText);
}

function problemsOf(text: string): string[] {
  return validateWorkflowText(text, defaultRegistry()).problems.map((problem) => problem.message);
}

async function withSink<T>(use: (sink: HttpSink) => Promise<T>): Promise<T> {
  const sink = await startHttpSink();
  try {
    return await use(sink);
  } finally {
    await sink.close();
  }
}

describe('__proto__ keys', () => {
  it('hashes a __proto__ key as data: two workflows that differ only there are two versions', () => {
    expect(canonicalJson(JSON.parse('{"b": {"__proto__": {"admin": true}, "a": 1}}'))).toBe(
      '{"b":{"__proto__":{"admin":true},"a":1}}',
    );
    const text = JSON.stringify(chain('h', [node('call', 'http.request', { url: 'http://x/', body: { amount: 1 } })]));
    const withKey = text.replace('"body":{"amount":1}', '"body":{"__proto__":{"admin":true},"amount":1}');
    expect(withKey).not.toBe(text);
    expect(contentHash(JSON.parse(withKey) as Workflow)).not.toBe(contentHash(JSON.parse(text) as Workflow));
  });

  it('refuses a __proto__ key in an HTTP body by name, and sends nothing', async () => {
    await withSink(async (sink) => {
      const flow = file(
        'proto-body.json',
        postingFlow(
          sink.url,
          `{"method": "POST", "url": "${sink.url}", "body": {"amount": 1, "__proto__": {"admin": true}}}`,
        ),
      );
      const result = await cli(['run', flow]);
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toContain(
        'node "call" (nodes[1]).config.body.__proto__: the key "__proto__" is not allowed',
      );
      expect(sink.requests).toEqual([]);
    });
  });

  it('refuses a __proto__ key directly in a node config instead of dropping it', async () => {
    const flow = file(
      'proto-config.json',
      postingFlow('http://127.0.0.1:9/', `{"url": "http://127.0.0.1:9/", "__proto__": {"method": "DELETE"}}`),
    );
    const result = await cli(['validate', flow]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('node "call" (nodes[1]).config.__proto__: the key "__proto__" is not allowed');
  });

  it('sends a __proto__ key in run input to the server as data', async () => {
    await withSink(async (sink) => {
      const flow = file('proto-input.json', postingFlow(sink.url));
      const result = await cli(['run', flow, '--input', '{"__proto__": {"admin": true}, "amount": 1}']);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(sink.requests).toHaveLength(1);
      const body = sink.requests[0]?.body as object;
      expect(Object.keys(body)).toEqual(['__proto__', 'amount']);
      expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toEqual({ admin: true });
    });
  });
});

describe('durations', () => {
  it('refuses a wait or timeout longer than 10 years, naming the limit', () => {
    const timer = JSON.stringify(chain('t', [node('w', 'wait.timer', { duration: '9999999999999999w' })]));
    expect(problemsOf(timer)).toContain(
      'node "w" (wait.timer) config.duration: "9999999999999999w" is longer than the maximum of 10 years (3650d)',
    );
    const approval = JSON.stringify(chain('a', [node('ok', 'approval', { timeout: '5000w' })]));
    expect(problemsOf(approval)).toContain(
      'node "ok" (approval) config.timeout: "5000w" is longer than the maximum of 10 years (3650d)',
    );
    expect(problemsOf(JSON.stringify(chain('fine', [node('w', 'wait.timer', { duration: '3650d' })])))).toEqual([]);
  });

  it('refuses a retry interval past what a date can hold instead of crashing `run` with RangeError', async () => {
    const retrying = chain('r', [
      node(
        'call',
        'http.request',
        { url: 'http://127.0.0.1:9/' },
        { retry: { maxAttempts: 3, initialIntervalMs: 9007199254740991, maxIntervalMs: 9007199254740991, jitter: 0 } },
      ),
    ]);
    const result = await cli(['run', file('retry.json', retrying)]);
    expect(result.stderr).not.toMatch(/RangeError|Invalid time value/);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('node "call" (nodes[1]).retry.initialIntervalMs: must be at most');
    expect(result.stderr).toContain('10 years');
  });

  it('fails, plainly, a run pinned to a version saved before durations were bounded', async () => {
    const engine = testEngine();
    const graph = chain('long-wait', [node('wait', 'wait.timer', { duration: '1s' })]);
    // What an older Stepwise accepted and pinned: it must not leave the run running forever.
    const old = chain('long-wait', [node('wait', 'wait.timer', { duration: '9999999999999999w' })]);
    const detail = await runPinnedVersion(engine, graph, old);
    expect(detail.status).toBe('failed');
    expect(detail.error?.message).toMatch(/duration: "9999999999999999w" is longer than the maximum of 10 years/);
  });

  it('formats a run whose time is outside what a date can show, without throwing', () => {
    const run = { runId: 'r1', status: 'waiting', workflowId: 'w', version: 1, createdAt: 6.048e24 } as const;
    expect(() => formatRunLine(run as unknown as Parameters<typeof formatRunLine>[0])).not.toThrow();
  });
});

describe('type messages', () => {
  it('names the expected type when a field has the wrong one, and still says "is required" when it is missing', () => {
    const graph = chain('typed', [node('c', 'code', { code: 42 })]);
    const text = JSON.stringify(graph).replace('"typeVersion":1', '"typeVersion":"1"');
    expect(problemsOf(text)).toEqual(['node "start" (nodes[0]).typeVersion: expected a number, got a string']);
    expect(problemsOf(JSON.stringify(graph))).toContain('node "c" (code) config.code: expected a string, got a number');
    expect(problemsOf(JSON.stringify(chain('missing', [node('c', 'code', {})])))).toContain(
      'node "c" (code) config.code: is required (a JavaScript function body)',
    );
    expect(problemsOf(JSON.stringify({ ...graph, name: undefined }))).toEqual(['name: is required']);
  });

  it('names what a workflow file holds when it is not an object: null, [] or 42', async () => {
    expect(problemsOf('null')).toEqual(['(workflow): expected an object, got null']);
    expect(problemsOf('[]')).toEqual(['(workflow): expected an object, got an array']);
    const result = await cli(['validate', file('number.json', '42')]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('error: (workflow): expected an object, got a number\n');
  });
});

describe('CLI options', () => {
  it('refuses `runs --status` with an unknown value, naming the allowed ones', async () => {
    const result = await cli(['runs', '--status', 'bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '--status must be one of running, waiting, completed, failed, cancelled, compensating, compensated, compensation_failed (got "bogus")',
    );
    expect((await cli(['runs', '--status', 'completed'])).code).toBe(0);
  });

  it('refuses an unknown --sync mode for every command, not only those that open the database', async () => {
    const result = await cli(['validate', join(ROOT, 'assets/templates/hello.stepwise.json'), '--sync', 'bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--sync must be one of FULL, NORMAL (got "BOGUS")');
  });

  it('reads run input larger than an argument may be from --input-file and from standard input', async () => {
    // Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN); this input is 300 KB.
    const input = { items: Array.from({ length: 10_000 }, (_, index) => `item-${String(index).padStart(24, '0')}`) };
    const text = JSON.stringify(input);
    expect(text.length).toBeGreaterThan(300_000);
    const flow = file('echo.json', chain('echo', []));
    const fromFile = await cli(['run', flow, '--input-file', file('big-input.json', text), '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const { runId } = JSON.parse(fromFile.stdout) as { runId: string };
    const shown = JSON.parse((await cli(['show', runId, '--json'])).stdout) as { input: unknown };
    expect(shown.input).toEqual(input);

    const fromStdin = await cli(['start', flow, '--input-file', '-', '--json'], text);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ input });

    const both = await cli(['start', flow, '--input', '1', '--input-file', '-'], '2');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --input or --input-file, not both');
    const broken = await cli(['start', flow, '--input-file', '-'], '{oops');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('--input-file - is not valid JSON');
  });
});

describe('tamper-evident exports', () => {
  /** An approved refund run, exported as a file would hold it. */
  async function approvedExport(): Promise<{ events: Record<string, unknown>[] } & Record<string, unknown>> {
    const engine = testEngine();
    const parked = await runWorkflow(engine, refundFlow(), { amount: 30 });
    expect(parked.status).toBe('waiting');
    await engine.commands.decide(parked.runId, 'approved', { by: 'alice' });
    await engine.waitForRun(parked.runId, { until: 'finished', timeoutMs: 15_000 });
    return JSON.parse(JSON.stringify(await engine.queries.export(parked.runId))) as {
      events: Record<string, unknown>[];
    };
  }

  it('refuses an export whose approval was flipped to rejected, naming the altered event', async () => {
    const exported = await approvedExport();
    expect((await cli(['replay', file('approved.json', exported)])).code).toBe(0);
    const signal = exported.events.find((event) => event.type === 'SignalReceived') as {
      seq: number;
      data: { signal: { decision: string } };
    };
    expect(signal.data.signal.decision).toBe('approved');
    signal.data.signal.decision = 'rejected';
    const result = await cli(['replay', file('flipped.json', exported)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`event #${signal.seq} (SignalReceived) was altered`);
    expect(result.stdout).not.toContain('replay matches');
  });

  it('refuses an export cut short, saying how many events are missing', async () => {
    const exported = await approvedExport();
    const total = exported.events.length;
    expect(total).toBeGreaterThanOrEqual(14);
    exported.events = exported.events.slice(0, 3);
    const result = await cli(['replay', file('cut.json', exported)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `the journal is truncated: the export holds 3 of the ${total} events it was exported with (${total - 3} missing after #3)`,
    );
  });

  it('refuses an export whose workflow version was altered', async () => {
    const exported = (await approvedExport()) as unknown as {
      version: { graph: { nodes: { config: { code?: string } }[] } };
    };
    const pay = exported.version.graph.nodes.find((item) => item.config.code !== undefined);
    if (pay) pay.config.code = 'return { refunded: input.amount * 100 };';
    const result = await cli(['replay', file('version.json', exported)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('the workflow version was altered');
  });

  it('still replays an export written before the chain (format @1), warning that it cannot be verified', async () => {
    const result = await cli(['replay', join(ROOT, 'tests/fixtures/journals/approval-approved.json')]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^replay matches/);
    expect(result.stderr).toContain('warning: this export is stepwise/run-export@1, which has no hash chain');
  });
});
