// The sandbox pool: user code runs on worker threads (one per core by default), never on the
// engine thread that commits the journal, renews leases and answers the API. A thread runs one
// activation at a time; requests queue while every thread is busy. A thread over its time limit
// is terminated from here — QuickJS's interrupt handler is not reached inside a long native call
// such as a big allocation — and so is one whose request is cancelled; a new thread replaces it
// when there is work.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { NodeError, type Sandbox, type SandboxRequest } from '../sdk/index.js';
import { outOfMemory, timedOut } from './evaluate.js';
import type { ThreadFailure, ThreadJob, ThreadMessage, ThreadRequest } from './protocol.js';

export interface SandboxPoolOptions {
  /** Threads running user code at once (default: one per core). */
  threads?: number;
}

/** How long past its timeout a thread may run before it is terminated. */
const TERMINATE_GRACE_MS = 250;
/** The thread's V8 heap holds the input and the result text (≤ 16 MiB each), not the guest's memory. */
const THREAD_HEAP_MB = 192;

/** The compiled thread entry: beside this file in dist/; from sources (vitest runs TypeScript)
 * there is no JavaScript beside it, so the one `npm run build` put in dist/ runs. */
const THREAD_SCRIPTS = [
  new URL('./sandbox-thread.js', import.meta.url),
  new URL('../../dist/engine/sandbox/sandbox-thread.js', import.meta.url),
].map((url) => fileURLToPath(url));

function threadScript(): string {
  const found = THREAD_SCRIPTS.find((path) => existsSync(path));
  if (found === undefined)
    throw new Error(`the sandbox thread is not built (no ${THREAD_SCRIPTS.join(' nor ')}): run \`npm run build\``);
  return found;
}

interface Job {
  id: number;
  request: SandboxRequest;
  /** Set when it ran out of memory in a used environment: it runs once more in a fresh one. */
  fresh?: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  onAbort?: () => void;
}

interface Slot {
  thread: Thread;
  /** The limit the thread's WebAssembly instance was made for; a request with the same one reuses it. */
  memoryLimitBytes: number | undefined;
  job: Job | undefined;
  watchdog: NodeJS.Timeout | undefined;
  error: unknown;
  idleSince: number;
}

export class SandboxPool implements Sandbox {
  readonly size: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: SandboxPoolOptions = {}) {
    const size = options.threads ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`sandbox threads must be at least 1; it was ${size}`);
    this.size = size;
  }

  evaluate(request: SandboxRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(stopped('the engine is closing'));
      if (request.signal?.aborted) return reject(stopped('cancelled'));
      const job: Job = { id: (this.#nextId += 1), request, resolve, reject };
      if (request.signal) {
        job.onAbort = () => this.#cancel(job);
        request.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Stops every thread; what is queued or running fails as cancelled. */
  async dispose(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) settle(job, stopped('the engine is closing'));
    await Promise.all([...this.#slots].map((slot) => this.#stop(slot, stopped('the engine is closing'))));
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const job = this.#queue[0] as Job;
      let slot: Slot | undefined;
      try {
        slot = this.#idle(job.request.memoryLimitBytes) ?? this.#spawn();
      } catch (error) {
        this.#queue.shift();
        settle(job, error);
        continue;
      }
      if (!slot) return;
      this.#queue.shift();
      this.#assign(slot, job);
    }
  }

  /** An idle thread, preferably one whose instance fits the limit (a new instance costs ~10 ms),
   * and of those the one idle longest: it has had time to prepare its next environment. */
  #idle(memoryLimitBytes: number): Slot | undefined {
    const idle = this.#slots.filter((slot) => !slot.job).sort((a, b) => a.idleSince - b.idleSince);
    return idle.find((slot) => slot.memoryLimitBytes === memoryLimitBytes) ?? idle[0];
  }

  #spawn(): Slot | undefined {
    if (this.#slots.length >= this.size) return undefined;
    const thread = new Thread(threadScript(), {
      resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB, stackSizeMb: 1 },
    });
    const slot: Slot = {
      thread,
      memoryLimitBytes: undefined,
      job: undefined,
      watchdog: undefined,
      error: undefined,
      idleSince: 0,
    };
    thread.on('message', (message: ThreadMessage) => this.#received(slot, message));
    thread.on('error', (error) => (slot.error = error));
    thread.on('exit', () => this.#exited(slot));
    this.#slots.push(slot);
    return slot;
  }

  #assign(slot: Slot, job: Job): void {
    let request: ThreadRequest;
    try {
      const { input, signal: _signal, onConsole: _onConsole, ...rest } = job.request;
      request = { ...rest, inputJson: JSON.stringify(input ?? null) };
    } catch (error) {
      settle(
        job,
        new NodeError(`the input cannot be passed to the code: ${String(error)}`, nonRetryable('code.error')),
      );
      return this.#pump();
    }
    // A warm thread is timed from here; one that must first load a WebAssembly instance for this
    // limit (not the code's time) says when the code starts. One thread hop less when warm.
    if (slot.memoryLimitBytes === job.request.memoryLimitBytes) this.#arm(slot, job);
    slot.job = job;
    slot.memoryLimitBytes = job.request.memoryLimitBytes;
    slot.thread.ref();
    const message: ThreadJob = { id: job.id, request, ...(job.fresh && { fresh: true }) };
    slot.thread.postMessage(message);
  }

  #received(slot: Slot, message: ThreadMessage): void {
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    if ('started' in message) return this.#arm(slot, job);
    clearTimeout(slot.watchdog);
    slot.job = undefined;
    slot.idleSince = performance.now();
    if (message.retire) void this.#stop(slot);
    else slot.thread.unref(); // an idle thread does not keep the process alive
    const { outcome } = message;
    // What earlier activations left in the environment may be what ran out: once more, afresh.
    if (!outcome.ok && outcome.error.kind === 'code.memory' && message.reused && !job.fresh) {
      job.fresh = true;
      this.#queue.unshift(job);
      return this.#pump();
    }
    if (message.console) job.request.onConsole?.(message.console.lines, message.console.dropped);
    settle(job, outcome.ok ? undefined : failure(outcome.error), outcome.ok ? parse(outcome.json) : undefined);
    this.#pump();
  }

  #arm(slot: Slot, job: Job): void {
    const limit = job.request.timeoutMs + TERMINATE_GRACE_MS;
    slot.watchdog = setTimeout(() => void this.#stop(slot, failure(timedOut(job.request))), limit);
  }

  #cancel(job: Job): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      settle(job, stopped('cancelled'));
      return;
    }
    const slot = this.#slots.find((candidate) => candidate.job === job);
    if (slot) void this.#stop(slot, stopped('cancelled'));
  }

  /** Terminates a thread; its activation, if any, fails with `error`. */
  async #stop(slot: Slot, error?: NodeError): Promise<void> {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    clearTimeout(slot.watchdog);
    const job = slot.job;
    slot.job = undefined;
    if (job) settle(job, error ?? stopped('cancelled'));
    this.#pump();
    await slot.thread.terminate();
  }

  /** A thread that ended by itself (its V8 heap limit, a crash). */
  #exited(slot: Slot): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    clearTimeout(slot.watchdog);
    const job = slot.job;
    if (job) {
      const { code } = (slot.error ?? {}) as { code?: string };
      settle(
        job,
        code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? failure(outOfMemory(job.request))
          : new NodeError(
              `the sandbox thread stopped: ${slot.error instanceof Error ? slot.error.message : 'no reason given'}`,
              nonRetryable('code.error'),
            ),
      );
    }
    this.#pump();
  }
}

function settle(job: Job, error: unknown, value?: unknown): void {
  if (job.onAbort) job.request.signal?.removeEventListener('abort', job.onAbort);
  if (error === undefined) job.resolve(value);
  else job.reject(error);
}

function parse(json: string | null): unknown {
  return json === null ? null : (JSON.parse(json) as unknown);
}

function nonRetryable(kind: string): { kind: string; retryable: false } {
  return { kind, retryable: false };
}

function failure({ kind, message, details }: ThreadFailure): NodeError {
  return new NodeError(message, { ...nonRetryable(kind), ...(details !== undefined && { details }) });
}

function stopped(reason: string): NodeError {
  return new NodeError(reason, nonRetryable('node.cancelled'));
}
