// Test helpers: temporary databases, workflow builders, the real CLI as a child process,
// and an HTTP sink on 127.0.0.1 that records every request with its Idempotency-Key and time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Workflow, WorkflowEdge, WorkflowNode } from '../../engine/model/workflow.js';

// tests/support/ from source, dist/tests/support/ when compiled (benchmarks).
export const ROOT = resolve(import.meta.dirname, import.meta.dirname.includes('/dist/') ? '../../..' : '../..');
export const CLI = join(ROOT, 'bin', 'stepwise.js');

export function tempDir(prefix = 'stepwise-test-'): { path: string; db: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, db: join(path, 'stepwise.db'), cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

type NodeSpec = Omit<WorkflowNode, 'position' | 'typeVersion' | 'config'> & {
  typeVersion?: number;
  config?: Record<string, unknown>;
};

export function node(
  id: string,
  type: string,
  config: Record<string, unknown> = {},
  extra: Partial<NodeSpec> = {},
): NodeSpec {
  return { id, type, config, ...extra };
}

/** `edge('a', 'b')` or `edge('a:true', 'b')` — the port after the colon (default "out" → "in"). */
export function edge(from: string, to: string): WorkflowEdge {
  const [source = '', sourceHandle = 'out'] = from.split(':');
  const [target = '', targetHandle = 'in'] = to.split(':');
  const id = `${source}-${sourceHandle}-${target}${targetHandle === 'in' ? '' : `-${targetHandle}`}`;
  return { id, source, sourceHandle, target, targetHandle };
}

export function workflow(id: string, nodes: NodeSpec[], edges: WorkflowEdge[], name = id): Workflow {
  return {
    format: 'stepwise/workflow@1',
    id,
    name,
    nodes: nodes.map((spec, index) => ({
      ...spec,
      typeVersion: spec.typeVersion ?? 1,
      position: { x: index * 200, y: 0 },
      config: spec.config ?? {},
    })),
    edges,
  };
}

/** trigger → the given nodes in a line → output. */
export function chain(id: string, middle: NodeSpec[]): Workflow {
  const nodes = [node('start', 'trigger.manual'), ...middle, node('end', 'output')];
  const edges = nodes.slice(1).map((item, index) => edge((nodes[index] as NodeSpec).id, item.id));
  return workflow(id, nodes, edges);
}

/** trigger → approval "ok" ("Refund?") → code "pay" on `approved` → output. */
export function refundFlow(payCode = 'return { refunded: input.amount };'): Workflow {
  return workflow(
    'refund',
    [
      node('start', 'trigger.manual'),
      node('ok', 'approval', { title: 'Refund?' }),
      node('pay', 'code', { code: payCode }),
      node('end', 'output'),
    ],
    [edge('start', 'ok'), edge('ok:approved', 'pay'), edge('pay', 'end')],
  );
}

/** trigger → approval "ok" (`config`) → a code node per named port (`{ via: port, input }`) → output. */
export function approvalFlow(id: string, config: Record<string, unknown>, ports: string[] = ['approved', 'rejected']) {
  return workflow(
    id,
    [
      node('start', 'trigger.manual'),
      node('ok', 'approval', { title: 'Refund?', ...config }),
      ...ports.map((port) => node(port, 'code', { code: `return { via: '${port}', input };` })),
      node('end', 'output'),
    ],
    [edge('start', 'ok'), ...ports.flatMap((port) => [edge(`ok:${port}`, port), edge(port, 'end')])],
  );
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `uid`/`gid`: run as another user (root only), e.g. to meet file permissions as a user does. */
export interface CliOptions {
  db?: string;
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  /** Written to the child's standard input, which is then closed (default: no standard input). */
  stdin?: string;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  return finished(child);
}

export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...(options.db && { STEPWISE_DB: options.db }), ...options.env },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(options.uid !== undefined && { uid: options.uid }),
    ...(options.gid !== undefined && { gid: options.gid }),
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  return child;
}

export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolvePromise) =>
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr })),
  );
}

/** Resolves once the child has written `text` to stderr; rejects if it exits first. */
export function printed(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (!seen.includes(text)) return;
      child.stderr?.off('data', onData);
      child.off('close', onClose);
      resolvePromise();
    };
    const onClose = (): void => reject(new Error(`exited without printing "${text}": ${seen}`));
    child.stderr?.on('data', onData);
    child.once('close', onClose);
  });
}

export interface SinkRequest {
  /** When the request arrived (`Date.now()`: the clock the journal's `at` uses on this machine). */
  at: number;
  key: string | null;
  method: string;
  path: string;
  body: unknown;
}

export interface HttpSink {
  url: string;
  /** Every request as it arrived, including the ones answered from the cache. */
  requests: SinkRequest[];
  /** How many times each key's effect was applied (must be 1). */
  applied: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A payment-like endpoint that honours Idempotency-Key the way Stripe does: the first request
 * with a key applies the effect and stores the answer; later requests with the key get the
 * stored answer. `failRate` of first attempts answer 503 before applying anything.
 */
export async function startHttpSink(
  options: { failRate?: number; maxDelayMs?: number; seed?: number } = {},
): Promise<HttpSink> {
  const requests: SinkRequest[] = [];
  const applied = new Map<string, number>();
  const answers = new Map<string, string>();
  let seed = options.seed ?? 42;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 0x100000000;
  };
  const server: Server = createServer((request, response) => {
    // Stamped on arrival, before the body is read: a request is "before" a completion if it
    // reached the server first, however long its answer then took.
    const at = Date.now();
    void readBody(request).then((text) => {
      const key = request.headers['idempotency-key'];
      const body = text ? (JSON.parse(text) as unknown) : null;
      const keyText = typeof key === 'string' ? key : null;
      requests.push({ at, key: keyText, method: request.method ?? '', path: request.url ?? '', body });
      const delay = Math.floor(random() * (options.maxDelayMs ?? 0));
      setTimeout(() => {
        if (keyText === null) {
          response.writeHead(400).end('missing Idempotency-Key');
          return;
        }
        const stored = answers.get(keyText);
        if (stored !== undefined) {
          response.writeHead(200, { 'content-type': 'application/json' }).end(stored);
          return;
        }
        if (random() < (options.failRate ?? 0)) {
          response.writeHead(503, { 'content-type': 'text/plain' }).end('try again');
          return;
        }
        applied.set(keyText, (applied.get(keyText) ?? 0) + 1);
        const answer = JSON.stringify({ ok: true, path: request.url, echo: body });
        answers.set(keyText, answer);
        response.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      }, delay);
    });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    applied,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolvePromise) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => resolvePromise(text));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

/** Polls `condition` every 20 ms until it holds; throws after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export interface HeldRequest {
  key: string;
  request: IncomingMessage;
  response: ServerResponse;
  /** The client went away before an answer (an aborted execution). */
  closed: boolean;
}

export interface HoldingServer {
  url: string;
  /** Every request so far, in arrival order, each held until `answer`. */
  held: HeldRequest[];
  answer(index: number, body: unknown): void;
  close(): Promise<void>;
}

/** An HTTP endpoint on 127.0.0.1 that holds each request until the test answers it. */
export async function startHoldingServer(): Promise<HoldingServer> {
  const held: HeldRequest[] = [];
  const server = createServer((request, response) => {
    const entry: HeldRequest = { key: String(request.headers['idempotency-key']), request, response, closed: false };
    request.on('close', () => {
      if (!response.writableEnded) entry.closed = true;
    });
    held.push(entry);
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    answer(index, body) {
      const entry = held[index];
      if (!entry) throw new Error(`no request #${index}`);
      entry.response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    },
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}

/** The files a process has open (Linux: the targets of /proc/<pid>/fd); [] once it has exited. */
export function openFiles(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  return fds.flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return []; // closed between the listing and the read
    }
  });
}
