// One activation of user code, on a sandbox thread: a fresh QuickJS runtime and context for each
// (~1 ms), so nothing one activation does — a hooked iterator, a global, a patched prototype — is
// visible to another. Nothing compiled is kept between activations for the same reason.
import { shouldInterruptAfterDeadline, type QuickJSContext, type QuickJSWASMModule } from 'quickjs-emscripten';
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

export function evaluate(module: QuickJSWASMModule, request: ThreadRequest): Evaluation {
  const runtime = module.newRuntime();
  let outcome: ThreadOutcome;
  let intact = true;
  try {
    runtime.setMaxStackSize(STACK_LIMIT_BYTES);
    // QuickJS's own count is only a hint in this build (it cannot measure its blocks); the bound
    // that holds is the thread's WebAssembly memory maximum (see sandbox-thread.ts).
    runtime.setMemoryLimit(request.memoryLimitBytes);
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + request.timeoutMs));
    const context = runtime.newContext();
    try {
      outcome = run(context, request);
    } finally {
      intact = disposed(() => context.dispose());
    }
  } finally {
    intact = disposed(() => runtime.dispose()) && intact;
  }
  return { outcome, intact };
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
  // The result crosses to the engine as JSON text, measured here against the output limit; a
  // value too deep for JSON.stringify's stack is named instead of surfacing as a stack overflow.
  const wrapper = `(function () {
  const __fn = new Function('input', ${JSON.stringify(body)});
  return function (__json, __max) {
    const __result = __fn(JSON.parse(__json));
    if (__result === undefined) return undefined;
    let __text;
    try {
      __text = JSON.stringify(__result);
    } catch (__error) {
      if (__error instanceof InternalError && __error.message === 'stack overflow') throw { ${MARKER}: 'too-deep' };
      throw __error;
    }
    if (__text !== undefined && __text.length > __max) throw { ${MARKER}: 'too-large', length: __text.length };
    return __text;
  };
})()`;
  const compiled = context.evalCode(wrapper, USER_CODE_FILE);
  if (compiled.error) {
    const failure = context.dump(compiled.error) as unknown;
    compiled.error.dispose();
    return { ok: false, error: failureOf(failure, request) };
  }
  const fn = compiled.value;
  const json = context.newString(request.inputJson);
  const max = context.newNumber(request.maxOutputBytes);
  const result = context.callFunction(fn, context.undefined, json, max);
  for (const handle of [fn, json, max]) handle.dispose();
  if (result.error) {
    const failure = context.dump(result.error) as unknown;
    result.error.dispose();
    return { ok: false, error: failureOf(failure, request) };
  }
  const text = context.typeof(result.value) === 'string' ? context.getString(result.value) : null;
  result.value.dispose();
  if (text !== null) {
    const bytes = Buffer.byteLength(text);
    if (bytes > request.maxOutputBytes) return { ok: false, error: tooLarge(`${bytes}`, request) };
  }
  return { ok: true, json: text };
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
