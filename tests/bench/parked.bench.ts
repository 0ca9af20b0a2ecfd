// `npm run bench -- parked`: waiting costs nothing. 100,000 runs (BENCH_PARKED) parked at an
// approval, started through the engine's own API in-process; then the real `stepwise serve` on
// that file: the database's size, the engine host's RSS with them parked against the same host on
// a file with none (goal: < 50 MB more), and 10,000 of them (BENCH_PARKED_DECIDE) decided through
// POST /api/runs/<runId>/decisions by a few concurrent clients (BENCH_PARKED_CLIENTS).
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { EngineClient, WebSocketConnection } from '../../engine/api/index.js';
import type { Workflow } from '../../engine/model/workflow.js';
import { Engine } from '../../engine/runtime/engine.js';
import { startServe, type ServedProcess } from '../support/browser.js';
import { childPids, memoryOf, type Memory } from '../support/processes.js';
import { percentile, printTable } from './table.js';

function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return value;
}

const PARKED = envCount('BENCH_PARKED', 100_000);
const DECIDE = Math.min(envCount('BENCH_PARKED_DECIDE', 10_000), PARKED);
const CLIENTS = envCount('BENCH_PARKED_CLIENTS', 8);
/** Starts in flight while parking: enough to fill the group commit's batches. */
const IN_FLIGHT = 200;
/** How long a freshly started host is left alone before its memory is read. */
const SETTLE_MS = 3000;
const MB = 1024 * 1024;

/** trigger → approval → output: what a parked refund looks like, without work after the decision. */
const WORKFLOW: Workflow = {
  format: 'stepwise/workflow@1',
  id: 'bench-parked',
  name: 'Benchmark: parked approvals',
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: 0, y: 0 }, config: {} },
    {
      id: 'ok',
      type: 'approval',
      typeVersion: 1,
      position: { x: 300, y: 0 },
      config: { title: 'Refund?', instructions: 'Check the order and the customer.' },
    },
    { id: 'end', type: 'output', typeVersion: 1, position: { x: 600, y: 0 }, config: {} },
  ],
  edges: [
    { id: 'e1', source: 'start', sourceHandle: 'out', target: 'ok', targetHandle: 'in' },
    { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'end', targetHandle: 'in' },
  ],
};

/** A database with the workflow saved and `runs` runs parked at its approval; the time it took. */
async function park(dbPath: string, runs: number): Promise<number> {
  const started = performance.now();
  // NORMAL while filling the file (the host reopens it at FULL); what is written is the same.
  const engine = Engine.open({ dbPath, synchronous: 'NORMAL' });
  try {
    await engine.saveWorkflow(WORKFLOW);
    if (runs === 0) return 0;
    engine.startWorker();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < runs) {
        next += 1;
        await engine.startRun(WORKFLOW.id, { input: { orderId: `A-${next}`, amount: next % 500 } });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    for (;;) {
      const counts = await engine.queries.counts({});
      if (counts.running === 0 && counts.waiting === runs) break;
      if ((counts.failed ?? 0) > 0) throw new Error(`${counts.failed} runs failed while parking`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await engine.close();
  }
  return performance.now() - started;
}

/** The file and its WAL and shared-memory files, as they are on disk. */
function databaseBytes(dbPath: string): number {
  let bytes = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      bytes += statSync(dbPath + suffix).size;
    } catch {
      // No WAL after a clean close: nothing to add.
    }
  }
  return bytes;
}

interface Host {
  served: ServedProcess;
  client: EngineClient;
  hostPid: number;
}

async function openHost(dbPath: string): Promise<Host> {
  const served = await startServe(dbPath);
  const client = new EngineClient(
    new WebSocketConnection(`ws://127.0.0.1:${served.port}/api/ws?token=${served.token}`, (url) => new WebSocket(url)),
  );
  const [hostPid] = childPids(served.pid);
  if (hostPid === undefined) throw new Error('stepwise serve has no engine host child');
  return { served, client, hostPid };
}

interface Settled {
  host: Memory;
  serve: Memory;
  inboxTotal: number;
  inboxMs: number;
}

/** The host's and serve's memory once the host has started, answered the inbox and been left alone. */
async function settledMemory(host: Host): Promise<Settled> {
  const started = performance.now();
  const inbox = await host.client.api.listInbox({});
  const inboxMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  await host.client.api.listInbox({});
  return { host: memoryOf(host.hostPid), serve: memoryOf(host.served.pid), inboxTotal: inbox.total, inboxMs };
}

async function closeHost(host: Host): Promise<void> {
  host.client.stop();
  await host.served.stop();
}

/** The ids of `count` waiting runs, read a page at a time as any client would. */
async function waitingRuns(client: EngineClient, count: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  while (ids.length < count) {
    const page = await client.api.listRuns({ status: ['waiting'], limit: 1000, ...(cursor && { cursor }) });
    ids.push(...page.runs.map((run) => run.runId));
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  if (ids.length < count) throw new Error(`only ${ids.length} waiting runs, expected ${count}`);
  return ids.slice(0, count);
}

function postDecision(served: ServedProcess, agent: Agent, runId: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: served.port,
        path: `/api/runs/${runId}/decisions`,
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${served.token}`, 'content-type': 'application/json' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Decided {
  wallMs: number;
  latencies: number[];
  completedMs: number;
}

/** Every run decided once (half approved, half rejected) by `CLIENTS` keep-alive clients. */
async function decideAll(host: Host, runIds: readonly string[]): Promise<Decided> {
  const queue = runIds.map((runId, index) => ({ runId, decision: index % 2 === 0 ? 'approved' : 'rejected' }));
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
          const body = JSON.stringify({ decision: item.decision, by: `bench-client-${client}` });
          const sent = performance.now();
          const status = await postDecision(host.served, agent, item.runId, body);
          latencies.push(performance.now() - sent);
          if (status !== 200) throw new Error(`deciding ${item.runId} answered ${status}`);
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  const wallMs = performance.now() - started;
  // The runs go on after the decision is committed (resume, output): until they have all completed.
  for (;;) {
    const { counts } = await host.client.api.listRuns({ limit: 1 });
    if ((counts.completed ?? 0) >= runIds.length) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { wallMs, latencies, completedMs: performance.now() - started };
}

const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-parked-'));
const emptyDb = join(dir, 'none.db');
const parkedDb = join(dir, 'parked.db');
const loadAtStart = loadavg();
try {
  await park(emptyDb, 0);
  const parkMs = await park(parkedDb, PARKED);
  const emptyBytes = databaseBytes(emptyDb);
  const parkedBytes = databaseBytes(parkedDb);

  // One host at a time: the two never compete for the machine while their memory is read.
  const emptyHost = await openHost(emptyDb);
  const none = await settledMemory(emptyHost);
  await closeHost(emptyHost);

  const parkedHost = await openHost(parkedDb);
  let parked: Settled;
  let decided: Decided;
  let afterDeciding: Memory;
  try {
    parked = await settledMemory(parkedHost);
    if (parked.inboxTotal !== PARKED) throw new Error(`the inbox holds ${parked.inboxTotal}, expected ${PARKED}`);
    const runIds = await waitingRuns(parkedHost.client, DECIDE);
    decided = await decideAll(parkedHost, runIds);
    afterDeciding = memoryOf(parkedHost.hostPid);
  } finally {
    await closeHost(parkedHost);
  }
  const loadAtEnd = loadavg();

  const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;
  const change = (bytes: number): string => `${bytes >= 0 ? '+' : '−'}${mb(Math.abs(bytes))}`;
  const grown = parked.host.rss - none.host.rss;
  const sorted = [...decided.latencies].sort((a, b) => a - b);
  console.log(
    `\nStepwise parked-runs benchmark — ${PARKED.toLocaleString('en')} runs parked at an approval (trigger → approval → output), ` +
      `started in-process in ${(parkMs / 1000).toFixed(1)} s (${Math.round(PARKED / (parkMs / 1000))} runs/s, ${IN_FLIGHT} in flight, synchronous=NORMAL); ` +
      `then \`stepwise serve\` on the file (synchronous=FULL). Memory is the engine host's VmRSS (/proc) ${SETTLE_MS / 1000} s after ` +
      `it answered listInbox; the serve process in front of it is shown apart.\n`,
  );
  printTable([
    ['measure', 'none parked', `${PARKED.toLocaleString('en')} parked`, 'difference'],
    [
      'database on disk',
      mb(emptyBytes),
      mb(parkedBytes),
      `${change(parkedBytes - emptyBytes)} (${Math.round((parkedBytes - emptyBytes) / PARKED)} B per parked run)`,
    ],
    ['engine host RSS', mb(none.host.rss), mb(parked.host.rss), change(grown)],
    [
      'engine host peak RSS (VmHWM)',
      mb(none.host.peak),
      mb(parked.host.peak),
      change(parked.host.peak - none.host.peak),
    ],
    ['serve process RSS', mb(none.serve.rss), mb(parked.serve.rss), change(parked.serve.rss - none.serve.rss)],
    ['first listInbox', `${none.inboxMs.toFixed(0)} ms`, `${parked.inboxMs.toFixed(0)} ms`, ''],
  ]);
  console.log(
    `\nGoal: the host's RSS with them parked < 50 MB above none parked: ${grown < 50 * MB ? 'met' : 'MISSED'} (${mb(grown)}).\n`,
  );
  console.log(
    `Deciding ${DECIDE.toLocaleString('en')} of them through POST /api/runs/<runId>/decisions, ${CLIENTS} concurrent keep-alive clients, half approved, half rejected:\n`,
  );
  printTable([
    [
      'decisions',
      'answered in',
      'decisions/s',
      'latency p50',
      'latency p95',
      'slowest',
      'all completed after',
      'host RSS after',
    ],
    [
      DECIDE.toLocaleString('en'),
      `${(decided.wallMs / 1000).toFixed(1)} s`,
      String(Math.round(DECIDE / (decided.wallMs / 1000))),
      `${percentile(sorted, 0.5).toFixed(1)} ms`,
      `${percentile(sorted, 0.95).toFixed(1)} ms`,
      `${(sorted.at(-1) ?? Number.NaN).toFixed(1)} ms`,
      `${(decided.completedMs / 1000).toFixed(1)} s`,
      mb(afterDeciding.rss),
    ],
  ]);
  console.log(
    `\nLoad average ${loadAtStart.map((load) => load.toFixed(1)).join(' ')} at the start, ` +
      `${loadAtEnd.map((load) => load.toFixed(1)).join(' ')} at the end (1, 5, 15 min), on ${availableParallelism()} cores.`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
