// One activation of user code, on a sandbox thread: a fresh QuickJS runtime and context for each
// (~1 ms), so nothing one activation does — a hooked iterator, a global, a patched prototype — is
// visible to another. Nothing compiled is kept between activations for the same reason.
import {
  shouldInterruptAfterDeadline,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { OUTPUT_LIMIT } from '../sdk/index.js';
import type { ThreadFailure, ThreadOutcome, ThreadRequest } from './protocol.js';

const STACK_LIMIT_BYTES = 256 * 1024; // larger limits overflow the host stack before the guest's
const USER_CODE_FILE = 'code.js';
const LINE_OFFSET = { function: 3, expression: 4 } as const;
/** Thrown (as a plain object) by the wrapper below; user code cannot gain anything by forging it. */
const MARKER = '__stepwiseSandbox';

export interface Evaluation {
  outcome: ThreadOutcome;
  /** False when QuickJS failed its own teardown: the module's heap cannot be trusted any more. */
  intact: boolean;
}

/** A QuickJS runtime and context no code has run in yet. */
export interface FreshEnvironment {
  runtime: QuickJSRuntime;
  context: QuickJSContext;
}

export function freshEnvironment(module: QuickJSWASMModule): FreshEnvironment {
  const runtime = module.newRuntime();
  runtime.setMaxStackSize(STACK_LIMIT_BYTES);
  return { runtime, context: runtime.newContext() };
}

/** Disposes an environment no code ran in (one made ahead and not used). */
export function discard(environment: FreshEnvironment): void {
  if (disposed(() => environment.context.dispose())) disposed(() => environment.runtime.dispose());
}

/** Runs one activation in `environment`, which it uses up. `exhausted`: whether the WebAssembly
 * memory refused to grow during this activation. */
export function evaluate(environment: FreshEnvironment, request: ThreadRequest, exhausted: () => boolean): Evaluation {
  const { runtime, context } = environment;
  try {
    // QuickJS's own count is only a hint in this build (it cannot measure its blocks); the bound
    // that holds is the thread's WebAssembly memory maximum (see sandbox-thread.ts).
    runtime.setMemoryLimit(request.memoryLimitBytes);
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + request.timeoutMs));
    let outcome = run(context, request);
    // Out of memory, QuickJS may throw null (no memory left for an error): the refused growth tells.
    if (!outcome.ok && exhausted()) outcome = { ok: false, error: outOfMemory(request) };
    // After an interrupt or out of memory its heap may be inconsistent, and its teardown abort.
    if (!outcome.ok && (outcome.error.kind === 'code.memory' || outcome.error.kind === 'code.timeout'))
      return { outcome, intact: false };
    const intact = disposed(() => context.dispose()) && disposed(() => runtime.dispose());
    return { outcome, intact };
  } catch (error) {
    // Unwound through QuickJS: its heap is inconsistent and tearing it down would abort. The
    // thread is replaced, and the instance goes with it.
    if (error instanceof SandboxDamaged) return { outcome: error.outcome, intact: false };
    throw error;
  }
}

/** A runtime that ran out of memory can fail its own teardown; it is dropped either way. */
function disposed(dispose: () => void): boolean {
  try {
    dispose();
    return true;
  } catch {
    return false;
  }
}

function run(context: QuickJSContext, request: ThreadRequest): ThreadOutcome {
  // QuickJS reports `new Function` code as file "<input>", the body starting on line 3: error
  // lines are shifted back by LINE_OFFSET[mode] (see failureOf).
  const body =
    request.mode === 'function'
      ? `"use strict";\n${request.source}\n`
      : `"use strict";\nreturn (\n${request.source}\n);`;
  // Two calls: the user's code, then the result to JSON text (measured here against the output
  // limit), so that a result too deep for JSON.stringify's recursion is told apart from the code's.
  const wrapper = `(function () {
  const __fn = new Function('input', ${JSON.stringify(body)});
  let __result;
  return [
    function (__json) { __result = __fn(JSON.parse(__json)); },
    function (__max) {
      const __value = __result;
      __result = undefined;
      if (__value === undefined) return undefined;
      let __text;
      try {
        __text = JSON.stringify(__value);
      } catch (__error) {
        if (__error instanceof InternalError && __error.message === 'stack overflow') throw { ${MARKER}: 'too-deep' };
        throw __error;
      }
      if (__text !== undefined && __text.length > __max) throw { ${MARKER}: 'too-large', length: __text.length };
      return __text;
    },
  ];
})()`;
  const compiled = context.evalCode(wrapper, USER_CODE_FILE);
  if (compiled.error) return failed(context, compiled.error, request);
  const [call, serialize] = [0, 1].map((index) => context.getProp(compiled.value, index)) as [
    QuickJSHandle,
    QuickJSHandle,
  ];
  compiled.value.dispose();
  const json = context.newString(request.inputJson);
  const called = callGuarded(context, call, json, {
    kind: 'code.error',
    message: 'InternalError: stack overflow (recursion too deep)',
  });
  json.dispose();
  call.dispose();
  if (called.error) {
    serialize.dispose();
    return failed(context, called.error, request);
  }
  called.value.dispose();
  const max = context.newNumber(request.maxOutputBytes);
  const result = callGuarded(context, serialize, max, failureOf({ [MARKER]: 'too-deep' }, request));
  max.dispose();
  serialize.dispose();
  if (result.error) return failed(context, result.error, request);
  const text = context.typeof(result.value) === 'string' ? context.getString(result.value) : null;
  result.value.dispose();
  if (text !== null) {
    const bytes = Buffer.byteLength(text);
    if (bytes > request.maxOutputBytes) return { ok: false, error: tooLarge(`${bytes}`, request) };
  }
  return { ok: true, json: text };
}

/** Native recursion in WebAssembly (JSON.stringify, a deep structure) can exhaust the thread's own
 * stack before QuickJS's check: V8 unwinds through QuickJS, and `onOverflow` is the outcome. */
function callGuarded(context: QuickJSContext, fn: QuickJSHandle, arg: QuickJSHandle, onOverflow: ThreadFailure) {
  try {
    return context.callFunction(fn, context.undefined, arg);
  } catch (error) {
    if (error instanceof RangeError) throw new SandboxDamaged(onOverflow);
    throw error;
  }
}

function failed(context: QuickJSContext, error: QuickJSHandle, request: ThreadRequest): ThreadOutcome {
  const failure = context.dump(error) as unknown;
  error.dispose();
  return { ok: false, error: failureOf(failure, request) };
}

/** The activation failed in a way that leaves the WebAssembly instance unusable (its stack unwound
 * through QuickJS): the outcome stands, the thread is replaced. */
class SandboxDamaged extends Error {
  readonly outcome: ThreadOutcome;
  constructor(failure: ThreadFailure) {
    super(failure.message);
    this.outcome = { ok: false, error: failure };
  }
}

function failureOf(failure: unknown, request: ThreadRequest): ThreadFailure {
  const marked = (failure ?? {}) as { [MARKER]?: string; length?: number };
  if (marked[MARKER] === 'too-large') return tooLarge(`at least ${marked.length}`, request);
  if (marked[MARKER] === 'too-deep')
    return {
      kind: 'node.output-too-deep',
      message: 'output is nested too deeply to be stored as JSON; return a flatter value',
    };
  const { name, message, stack } = (failure ?? {}) as { name?: string; message?: string; stack?: string };
  const text = message ?? String(failure);
  if (name === 'InternalError' && text === 'interrupted') return timedOut(request);
  if (name === 'InternalError' && (text === 'out of memory' || text.includes('memory'))) return outOfMemory(request);
  const line = /<input>:(\d+)/.exec(stack ?? '');
  const where = line ? ` (line ${Math.max(1, Number(line[1]) - LINE_OFFSET[request.mode])})` : '';
  const label = name && name !== 'Error' ? `${name}: ` : '';
  return { kind: 'code.error', message: `${label}${text}${where}` };
}

function tooLarge(bytes: string, request: ThreadRequest): ThreadFailure {
  return {
    kind: 'node.output-too-large',
    message:
      `output is ${bytes} bytes, over this node's output limit of ${request.maxOutputBytes} bytes; ` +
      `raise the node's Output limit (maxOutputBytes, up to ${OUTPUT_LIMIT.maxBytes / 1024 / 1024} MiB)`,
  };
}

export function timedOut(request: Pick<ThreadRequest, 'timeoutMs'>): ThreadFailure {
  return {
    kind: 'code.timeout',
    message: `code did not finish within ${request.timeoutMs} ms (an endless loop?) and was stopped`,
  };
}

export function outOfMemory(request: Pick<ThreadRequest, 'memoryLimitBytes'>): ThreadFailure {
  return {
    kind: 'code.memory',
    message: `code exceeded its memory limit of ${Math.round(request.memoryLimitBytes / 1024 / 1024)} MiB and was stopped`,
  };
}
