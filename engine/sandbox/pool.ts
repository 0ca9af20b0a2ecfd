// The sandbox pool: user code runs on worker threads (one per core by default), never on the
// engine thread that commits the journal, renews leases and answers the API. A thread runs one
// activation at a time; requests queue while every thread is busy. A busy thread is handed one
// more (PIPELINED) so that it goes on without waiting for the engine thread. A thread over its
// time limit is terminated from here — QuickJS's interrupt handler is not reached inside a long
// native call such as a big allocation — and so is one whose request is cancelled; a new thread
// replaces it when there is work, and what it was handed but had not started goes to another.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { NodeError, type Sandbox, type SandboxRequest } from '../sdk/index.js';
import { outOfMemory, timedOut } from './evaluate.js';
import type { ThreadData, ThreadFailure, ThreadJob, ThreadMessage, ThreadRequest } from './protocol.js';

export interface SandboxPoolOptions {
  /** Threads running user code at once (default: one per core). */
  threads?: number;
}

/** How long past its timeout a thread may run before it is terminated. */
const TERMINATE_GRACE_MS = 250;
/** The thread's V8 heap holds the input and the result text (≤ 16 MiB each), not the guest's memory. */
const THREAD_HEAP_MB = 192;
/**
 * Jobs handed to a busy thread besides the one it runs (only when no thread is idle): it starts
 * the next as soon as one ends, instead of sleeping until the engine thread hands it one — a
 * hand-off that wakes a thread cost the engine thread ~60 µs, a sixth of a W10 step. One, so that
 * a job never waits behind more than one other (a long one: up to its time limit), and one cell
 * tells the thread which waiting job was cancelled (ThreadData.cancelled).
 */
const PIPELINED = 1;
/**
 * How often the requests the pool holds are asked whether they were cancelled (`signal`,
 * `cancelled`): asking is cheaper than a listener on an AbortSignal per request, and a cancel is
 * at most this late.
 */
const CANCEL_POLL_MS = 10;
/** A job waiting behind one that has run this long goes to a thread that is free (`#reclaim`). */
const RECLAIM_AFTER_MS = 10;
/**
 * How long a thread may take to skip a job it holds that was settled here (cancelled or taken
 * back) once it is that job's turn; a thread that started it anyway is terminated after this.
 */
const SKIP_GRACE_MS = 50;

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
  /** Settled already, or a stand-in for a job taken back: what a thread answers for it is ignored. */
  done?: boolean;
}

interface Slot {
  thread: Thread;
  /** The limit the thread's WebAssembly instance was made for; a request with the same one reuses it. */
  memoryLimitBytes: number | undefined;
  /** Handed to the thread, in order: the first runs (or is about to), the others wait there. */
  jobs: Job[];
  /** Shared with the thread: the id of a waiting job cancelled here (ThreadData.cancelled). */
  cancelled: Int32Array;
  watchdog: NodeJS.Timeout | undefined;
  /** When the first of `jobs` started, as far as the pool knows (its watchdog was armed). */
  headSince: number;
  error: unknown;
  idleSince: number;
}

export class SandboxPool implements Sandbox {
  readonly size: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #closed = false;
  #cancelPoll: NodeJS.Timeout | undefined;

  constructor(options: SandboxPoolOptions = {}) {
    const size = options.threads ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`sandbox threads must be at least 1; it was ${size}`);
    this.size = size;
  }

  evaluate(request: SandboxRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(stopped('the engine is closing'));
      if (isCancelled(request)) return reject(stopped('cancelled'));
      const job: Job = { id: (this.#nextId += 1), request, resolve, reject };
      this.#queue.push(job);
      this.#pump();
      this.#pollCancels();
    });
  }

  /** Stops every thread; what is queued or running fails as cancelled. */
  async dispose(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#cancelPoll);
    for (const job of this.#queue.splice(0)) settle(job, stopped('the engine is closing'));
    await Promise.all([...this.#slots].map((slot) => this.#stop(slot, stopped('the engine is closing'))));
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const job = this.#queue[0] as Job;
      let slot: Slot | undefined;
      try {
        slot = this.#idle(job.request.memoryLimitBytes) ?? this.#spawn() ?? this.#busy(job.request.memoryLimitBytes);
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
    const idle = this.#slots.filter((slot) => slot.jobs.length === 0).sort((a, b) => a.idleSince - b.idleSince);
    return idle.find((slot) => slot.memoryLimitBytes === memoryLimitBytes) ?? idle[0];
  }

  /** A busy thread whose instance fits the limit, with room for one more (see PIPELINED); not one
   * that is to skip its first job (the shared cell names one job at a time). */
  #busy(memoryLimitBytes: number): Slot | undefined {
    return this.#slots.find(
      (slot) =>
        slot.memoryLimitBytes === memoryLimitBytes &&
        slot.jobs.length > 0 &&
        slot.jobs.length <= PIPELINED &&
        slot.jobs[0]?.done !== true,
    );
  }

  /**
   * A thread is free and nothing is queued: a job waiting in another thread behind one that has run
   * RECLAIM_AFTER_MS is taken back (that thread is told to skip it; should it have started it
   * meanwhile, what it answers is ignored) and goes to the free one. So a long job holds up no
   * other while a thread is free.
   */
  #reclaim(): void {
    if (this.#queue.length > 0 || this.#closed) return;
    const free = this.#slots.length < this.size || this.#slots.some((slot) => slot.jobs.length === 0);
    if (!free) return;
    const now = performance.now();
    for (const slot of this.#slots) {
      const waiting = slot.jobs[1];
      if (!waiting || waiting.done || now - slot.headSince < RECLAIM_AFTER_MS) continue;
      this.#skip(slot, waiting);
      slot.jobs[1] = { ...waiting, done: true };
      this.#queue.push(waiting);
    }
    this.#pump();
  }

  /** Tells the thread not to start `job`, which waits there (the one cell: see #busy). */
  #skip(slot: Slot, job: Job): void {
    Atomics.store(slot.cancelled, 0, job.id);
  }

  #spawn(): Slot | undefined {
    if (this.#slots.length >= this.size) return undefined;
    const data: ThreadData = { cancelled: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT) };
    const thread = new Thread(threadScript(), {
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB, stackSizeMb: 1 },
    });
    const slot: Slot = {
      thread,
      memoryLimitBytes: undefined,
      jobs: [],
      cancelled: new Int32Array(data.cancelled),
      watchdog: undefined,
      headSince: 0,
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
      const { input, signal: _signal, cancelled: _cancelled, onConsole: _onConsole, ...rest } = job.request;
      request = { ...rest, inputJson: JSON.stringify(input ?? null) };
    } catch (error) {
      settle(
        job,
        new NodeError(`the input cannot be passed to the code: ${String(error)}`, nonRetryable('code.error')),
      );
      return this.#pump();
    }
    // A warm thread is timed from here; one that must first load a WebAssembly instance for this
    // limit (not the code's time) says when the code starts. One thread hop less when warm. A job
    // handed to a busy thread is timed from when the one before it ends.
    if (slot.jobs.length === 0 && slot.memoryLimitBytes === job.request.memoryLimitBytes) this.#arm(slot, job);
    slot.jobs.push(job);
    slot.memoryLimitBytes = job.request.memoryLimitBytes;
    slot.thread.ref();
    const message: ThreadJob = { id: job.id, request, ...(job.fresh && { fresh: true }) };
    slot.thread.postMessage(message);
  }

  #received(slot: Slot, message: ThreadMessage): void {
    const job = slot.jobs[0];
    if (!job || job.id !== message.id) return;
    if ('started' in message) return this.#arm(slot, job);
    clearTimeout(slot.watchdog);
    slot.jobs.shift();
    const next = slot.jobs[0];
    // A retiring thread runs nothing more: what it holds goes to another.
    if ('retire' in message && message.retire) void this.#stop(slot);
    else if (next) this.#arm(slot, next);
    else {
      slot.idleSince = performance.now();
      slot.thread.unref(); // an idle thread does not keep the process alive
    }
    // A skipped job that is not settled here (taken back, then handed to this thread again while
    // its old skip still stood) is not lost: it goes back to the queue.
    if ('skipped' in message && !job.done) this.#queue.unshift(job);
    if ('skipped' in message || job.done) {
      this.#pump();
      return this.#reclaim();
    }
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
    this.#reclaim();
  }

  #arm(slot: Slot, job: Job): void {
    slot.headSince = performance.now();
    // Settled here while the thread held it: the thread skips it at once, or started it before it
    // could know (then it goes, and what it holds behind it goes to another).
    if (job.done) {
      slot.watchdog = setTimeout(() => void this.#stop(slot), SKIP_GRACE_MS);
      return;
    }
    const limit = job.request.timeoutMs + TERMINATE_GRACE_MS;
    slot.watchdog = setTimeout(() => void this.#stop(slot, failure(timedOut(job.request))), limit);
  }

  /** While the pool holds requests, asks each every CANCEL_POLL_MS whether it was cancelled. */
  #pollCancels(): void {
    if (this.#cancelPoll || this.#closed) return;
    this.#cancelPoll = setTimeout(() => {
      this.#cancelPoll = undefined;
      const held = [...this.#queue, ...this.#slots.flatMap((slot) => slot.jobs)];
      for (const job of held) if (!job.done && isCancelled(job.request)) this.#cancel(job);
      this.#reclaim();
      if (this.#queue.length > 0 || this.#slots.some((slot) => slot.jobs.length > 0)) this.#pollCancels();
    }, CANCEL_POLL_MS);
    this.#cancelPoll.unref();
  }

  #cancel(job: Job): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      settle(job, stopped('cancelled'));
      return;
    }
    const slot = this.#slots.find((candidate) => candidate.jobs.includes(job));
    if (!slot) return;
    // Running: the thread goes. Waiting there: the thread skips it (should it have started it
    // meanwhile, it goes SKIP_GRACE_MS after that job's turn comes: see #arm).
    if (slot.jobs[0] === job) void this.#stop(slot, stopped('cancelled'));
    else {
      this.#skip(slot, job);
      settle(job, stopped('cancelled'));
    }
  }

  /**
   * Terminates a thread. The job it runs, if any, fails with `error`; without one (the thread
   * retires between jobs), none is running. The jobs waiting there never started: they go back
   * to the front of the queue.
   */
  async #stop(slot: Slot, error?: NodeError): Promise<void> {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    clearTimeout(slot.watchdog);
    const jobs = slot.jobs.splice(0);
    const running = error ? jobs.shift() : undefined;
    if (running) settle(running, error);
    this.#requeue(jobs);
    await slot.thread.terminate();
  }

  #requeue(jobs: readonly Job[]): void {
    const waiting = jobs.filter((job) => !job.done);
    if (this.#closed) for (const job of waiting) settle(job, stopped('the engine is closing'));
    else this.#queue.unshift(...waiting);
    this.#pump();
  }

  /** A thread that ended by itself (its V8 heap limit, a crash). */
  #exited(slot: Slot): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    clearTimeout(slot.watchdog);
    const [job, ...waiting] = slot.jobs.splice(0);
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
    this.#requeue(waiting);
  }
}

export function isCancelled(request: SandboxRequest): boolean {
  return request.signal?.aborted === true || request.cancelled?.() === true;
}

function settle(job: Job, error: unknown, value?: unknown): void {
  if (job.done) return;
  job.done = true;
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
