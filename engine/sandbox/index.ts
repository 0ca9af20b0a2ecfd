// The user-code sandbox: QuickJS (WebAssembly) with no fs, network, process or timers, a
// wall-clock limit and a heap limit. Runtime-only; nodes reach it through `ctx.sandbox`.
import {
  getQuickJS,
  shouldInterruptAfterDeadline,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { NodeError, type Sandbox, type SandboxRequest } from '../sdk/index.js';

// Freezes every intrinsic reachable from globalThis once per context, so user code cannot leave
// state behind for the next activation (the context is reused: a fresh one costs ~0.3 ms).
const LOCKDOWN = `(() => {
  const seen = new Set();
  const freeze = (value) => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
    seen.add(value);
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (!descriptor) continue;
      if ('value' in descriptor) freeze(descriptor.value);
      else { freeze(descriptor.get); freeze(descriptor.set); }
    }
    freeze(Object.getPrototypeOf(value));
  };
  freeze(globalThis);
})()`;

const STACK_LIMIT_BYTES = 256 * 1024; // larger limits overflow the host stack before the guest's
const MAX_COMPILED_PER_CONTEXT = 500;
const USER_CODE_FILE = 'code.js';
const LINE_OFFSET = { function: 3, expression: 4 } as const;

interface Isolate {
  runtime: QuickJSRuntime;
  context: QuickJSContext;
  compiled: Map<string, QuickJSHandle>;
}

export class QuickJsSandbox implements Sandbox {
  #module: Promise<QuickJSWASMModule> | null = null;
  /** One isolate per memory limit: the limit belongs to the QuickJS runtime. */
  readonly #isolates = new Map<number, Isolate>();

  async evaluate(request: SandboxRequest): Promise<unknown> {
    this.#module ??= getQuickJS();
    const module = await this.#module;
    return this.#run(module, request);
  }

  dispose(): void {
    for (const isolate of this.#isolates.values()) disposeIsolate(isolate);
    this.#isolates.clear();
  }

  #isolate(module: QuickJSWASMModule, memoryLimitBytes: number): Isolate {
    const existing = this.#isolates.get(memoryLimitBytes);
    if (existing) return existing;
    const runtime = module.newRuntime();
    runtime.setMaxStackSize(STACK_LIMIT_BYTES);
    const context = runtime.newContext();
    context.unwrapResult(context.evalCode(LOCKDOWN, 'lockdown.js')).dispose();
    // Set after lockdown so the limit is for user code, not the engine's own setup.
    runtime.setMemoryLimit(memoryLimitBytes);
    const isolate = { runtime, context, compiled: new Map<string, QuickJSHandle>() };
    this.#isolates.set(memoryLimitBytes, isolate);
    return isolate;
  }

  #run(module: QuickJSWASMModule, request: SandboxRequest): unknown {
    const isolate = this.#isolate(module, request.memoryLimitBytes);
    const { context, runtime } = isolate;
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + request.timeoutMs));
    try {
      const fn = this.#compile(isolate, request);
      const inputJson = context.newString(JSON.stringify(request.input ?? null));
      const result = context.callFunction(fn, context.undefined, inputJson);
      inputJson.dispose();
      if (result.error) {
        const failure = context.dump(result.error) as unknown;
        result.error.dispose();
        throw toNodeError(failure, request);
      }
      const text = context.dump(result.value) as unknown;
      result.value.dispose();
      return typeof text === 'string' ? (JSON.parse(text) as unknown) : null;
    } catch (error) {
      // After an interrupt or out-of-memory the isolate's heap may be inconsistent: start afresh.
      if (error instanceof NodeError && (error.kind === 'code.timeout' || error.kind === 'code.memory')) {
        this.#isolates.delete(request.memoryLimitBytes);
        disposeIsolate(isolate);
      }
      throw error;
    } finally {
      if (runtime.alive) runtime.removeInterruptHandler();
    }
  }

  #compile(isolate: Isolate, request: SandboxRequest): QuickJSHandle {
    const key = `${request.mode}\0${request.source}`;
    const cached = isolate.compiled.get(key);
    if (cached) return cached;
    // QuickJS reports `new Function` code as file "<input>", the body starting on line 3: error
    // lines are shifted back by LINE_OFFSET[mode] (see toNodeError).
    const body =
      request.mode === 'function'
        ? `"use strict";\n${request.source}\n`
        : `"use strict";\nreturn (\n${request.source}\n);`;
    const wrapper = `(function (__input) {
  const __fn = new Function('input', ${JSON.stringify(body)});
  return function (__json) {
    const __result = __fn(JSON.parse(__json));
    return __result === undefined ? undefined : JSON.stringify(__result);
  };
})()`;
    const result = isolate.context.evalCode(wrapper, USER_CODE_FILE);
    if (result.error) {
      const failure = isolate.context.dump(result.error) as unknown;
      result.error.dispose();
      throw toNodeError(failure, request);
    }
    if (isolate.compiled.size >= MAX_COMPILED_PER_CONTEXT) {
      const [oldestKey, oldest] = isolate.compiled.entries().next().value as [string, QuickJSHandle];
      oldest.dispose();
      isolate.compiled.delete(oldestKey);
    }
    isolate.compiled.set(key, result.value);
    return result.value;
  }
}

function disposeIsolate(isolate: Isolate): void {
  try {
    for (const handle of isolate.compiled.values()) handle.dispose();
    isolate.context.dispose();
    isolate.runtime.dispose();
  } catch {
    // A runtime that ran out of memory can fail its own teardown; it is dropped either way.
  }
}

function toNodeError(failure: unknown, request: SandboxRequest): NodeError {
  const { name, message, stack } = (failure ?? {}) as { name?: string; message?: string; stack?: string };
  const text = message ?? String(failure);
  if (name === 'InternalError' && text === 'interrupted')
    return new NodeError(`code did not finish within ${request.timeoutMs} ms (an endless loop?) and was stopped`, {
      kind: 'code.timeout',
      retryable: false,
    });
  if (name === 'InternalError' && (text === 'out of memory' || text.includes('memory')))
    return new NodeError(
      `code exceeded its memory limit of ${Math.round(request.memoryLimitBytes / 1024 / 1024)} MiB and was stopped`,
      { kind: 'code.memory', retryable: false },
    );
  const line = /<input>:(\d+)/.exec(stack ?? '');
  const where = line ? ` (line ${Math.max(1, Number(line[1]) - LINE_OFFSET[request.mode])})` : '';
  const label = name && name !== 'Error' ? `${name}: ` : '';
  return new NodeError(`${label}${text}${where}`, { kind: 'code.error', retryable: false });
}
