// A sandbox thread: runs one activation of user code at a time for the pool (pool.ts), in one
// locked-down QuickJS environment it reuses (evaluate.ts). The thread owns its WebAssembly instance, whose memory
// maximum is the activation's memory limit: that is the bound on real memory that holds.
import { parentPort, workerData } from 'node:worker_threads';
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC, type QuickJSWASMModule } from 'quickjs-emscripten';
import { Environment, evaluate } from './evaluate.js';
import type { CapturedConsole, ThreadData, ThreadJob, ThreadMessage, ThreadOutcome } from './protocol.js';

// @types/node declares no WebAssembly namespace (lib.dom does): the one constructor used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory };

const PAGE_BYTES = 64 * 1024;
/** The build's INITIAL_MEMORY (16 MiB): its stack and static data live there, not in the limit. */
const INITIAL_PAGES = 256;
/** WebAssembly memory never shrinks: a thread whose memory grew past this is replaced after its activation. */
export const RETIRE_BYTES = 128 * 1024 * 1024;

let loaded: { memoryLimitBytes: number; module: QuickJSWASMModule; memory: WasmMemory } | undefined;
/** Activations an environment serves before a fresh one replaces it (bounds what QuickJS keeps). */
const ACTIVATIONS_PER_ENVIRONMENT = 10_000;

/** The environment of `loaded.module`, made before the first activation and kept between them. */
let environment: Environment | undefined;
/** Set when the memory could not grow during the current activation. */
let exhausted = false;
/** The id of a job handed here that was cancelled before it started (see pool.ts). */
const cancelled = new Int32Array((workerData as ThreadData).cancelled);
/** Set once this thread told the pool to replace it: it runs nothing more (the pool hands on what it sent). */
let retired = false;

async function moduleFor(memoryLimitBytes: number): Promise<QuickJSWASMModule> {
  if (loaded?.memoryLimitBytes === memoryLimitBytes) return loaded.module;
  environment?.dispose();
  environment = undefined;
  loaded = undefined; // the previous instance and its memory go with the next collection
  const maximum = INITIAL_PAGES + Math.ceil(memoryLimitBytes / PAGE_BYTES);
  const wasmMemory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum });
  // QuickJS does not always say "out of memory" when an allocation fails: a refused growth tells.
  const grow = wasmMemory.grow.bind(wasmMemory);
  wasmMemory.grow = (pages) => {
    try {
      return grow(pages);
    } catch (error) {
      exhausted = true;
      throw error;
    }
  };
  const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory }));
  loaded = { memoryLimitBytes, module, memory: wasmMemory };
  return module;
}

function post(message: ThreadMessage): void {
  parentPort?.postMessage(message);
}

async function handle({ id, request, fresh }: ThreadJob): Promise<void> {
  if (retired) return;
  // Cleared once used: a job taken back may be handed here again later, and must run then.
  if (Atomics.compareExchange(cancelled, 0, id, 0) === id) return post({ id, skipped: true });
  let outcome: ThreadOutcome;
  let retire = false;
  let reused = false;
  let printed: CapturedConsole | undefined;
  try {
    const warm = loaded?.memoryLimitBytes === request.memoryLimitBytes;
    const module = await moduleFor(request.memoryLimitBytes);
    if (fresh && environment && environment.served > 0) {
      retire = !environment.dispose();
      environment = undefined;
    }
    environment ??= new Environment(module);
    reused = environment.served > 0;
    // The pool times a warm thread from the hand-off; a cold one from here (see pool.ts).
    if (!warm) post({ id, started: true });
    const before = loaded?.memory.buffer.byteLength ?? 0;
    exhausted = false;
    const evaluation = evaluate(environment, request, () => exhausted);
    outcome = evaluation.outcome;
    printed = evaluation.console;
    retire ||= !evaluation.intact;
    // A promise job left queued would run in someone else's activation; garbage QuickJS does not
    // collect (its GC threshold cannot count in this build) would shrink the next one's memory:
    // memory that grew, and every so many activations, start afresh.
    const grew = (loaded?.memory.buffer.byteLength ?? 0) > before;
    if (!retire && (!environment.clean || grew || environment.served >= ACTIVATIONS_PER_ENVIRONMENT)) {
      retire = !environment.dispose();
      environment = undefined;
    }
  } catch (error) {
    // The WebAssembly instance itself failed (an abort, a trap): its state cannot be trusted.
    outcome = { ok: false, error: { kind: 'code.error', message: `the sandbox failed: ${String(error)}` } };
    retire = true;
  }
  retire ||= (loaded?.memory.buffer.byteLength ?? 0) > RETIRE_BYTES;
  retired = retire;
  post({
    id,
    outcome,
    retire,
    reused,
    ...(printed && printed.lines.length + printed.dropped > 0 && { console: printed }),
  });
  // Made while idle: a locked-down context costs more than a small activation.
  try {
    if (!retire && loaded) environment ??= new Environment(loaded.module);
  } catch {
    environment = undefined; // made on demand instead
  }
}

// One job at a time, in order: the pool may hand over the next while one runs (loading an
// instance awaits, and a second job must not start meanwhile).
let queue = Promise.resolve();
parentPort?.on('message', (job: ThreadJob) => {
  queue = queue.then(() => handle(job)).catch(() => undefined); // handle() answers its own failures
});
