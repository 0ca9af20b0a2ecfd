// One activation of user code, on a sandbox thread, in the thread's environment: a QuickJS runtime
// and context whose every intrinsic is frozen before any user code runs (LOCKDOWN), so nothing one
// activation does — a hooked iterator, a global, a patched prototype — can be seen by another, and
// compiled code can be kept (a fresh context per activation costs ~0.5 ms, 25 times a small call).
import { randomFillSync } from 'node:crypto';
import {
  shouldInterruptAfterDeadline,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { OUTPUT_TOO_LARGE, outputTooLargeMessage } from '../sdk/index.js';
import { GLOBAL_GUARD_SOURCE } from './global-guard.js';
import { HELPERS_SOURCE } from './helpers.js';
import type { CapturedConsole, ThreadFailure, ThreadOutcome, ThreadRequest } from './protocol.js';
import type { ConsoleLine } from '../sdk/index.js';

const STACK_LIMIT_BYTES = 256 * 1024; // larger limits overflow the host stack before the guest's
const USER_CODE_FILE = 'code.js';
const LINE_OFFSET = { function: 3, expression: 4 } as const;
/** Thrown (as a plain object) by the wrapper below; user code cannot gain anything by forging it. */
const MARKER = '__stepwiseSandbox';
/** Compiled sources kept per environment; the oldest is dropped past this. */
const MAX_COMPILED = 200;
/** What one activation's console keeps (a memory bound; the journal keeps fewer: NOTES_LIMIT); lines past it are counted. */
export const CONSOLE_LIMIT = { lines: 1000, chars: 256 * 1024, lineChars: 4096 } as const;
const CONSOLE_LEVELS: readonly ConsoleLine['level'][] = ['log', 'info', 'warn', 'error'];

/**
 * Freezes every object user code can reach: everything reachable from globalThis (values, accessors,
 * prototypes) and the intrinsics only syntax reaches (iterator, generator and async prototypes,
 * %TypedArray%, iterator helpers). `eval` goes first: an indirect eval declares global `let`
 * bindings, which live outside globalThis where no freeze reaches. What is left has no mutable
 * place to keep anything between activations.
 */
const LOCKDOWN = `(() => {
  'use strict';
  delete globalThis.eval;
  // QuickJS's own generator is one state per context, which a run could recover from two draws and
  // then predict the next run's: this one (xoshiro128**) is reseeded by the host before each
  // activation, through the function returned here, which user code cannot reach.
  let s0 = 1, s1 = 2, s2 = 3, s3 = 4;
  const next = () => {
    const result = Math.imul(((Math.imul(s1, 5) << 7) | (Math.imul(s1, 5) >>> 25)), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };
  Object.defineProperty(Math, 'random', {
    value: { random() { return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992; } }.random,
    writable: true, configurable: true, enumerable: false,
  });
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
  const hidden = [
    () => [][Symbol.iterator](),
    () => new Map()[Symbol.iterator](),
    () => new Set()[Symbol.iterator](),
    () => ''[Symbol.iterator](),
    () => /a/[Symbol.matchAll]('a'),
    () => function* () {},
    () => (function* () {})(),
    () => async function () {},
    () => async function* () {},
    () => (async function* () {})(),
    () => Object.getPrototypeOf(Int8Array),
    () => [].values().map((x) => x),
    () => Iterator.from({ next: () => ({ done: true }) }),
    () => (function () { return arguments; })(),
    () => (function () { 'use strict'; return arguments; })(),
  ];
  freeze(globalThis);
  for (const make of hidden) {
    let value;
    try { value = make(); } catch { continue; } // a feature this QuickJS build lacks
    freeze(value);
  }
  return (a, b, c, d) => { s0 = a | 0; s1 = b | 0; s2 = c | 0; s3 = d | 1; };
})()`;

export interface Evaluation {
  outcome: ThreadOutcome;
  /** What the code printed before it returned, threw or was stopped. */
  console: CapturedConsole;
  /** False when QuickJS failed its own teardown: the module's heap cannot be trusted any more. */
  intact: boolean;
}

interface Compiled {
  call: QuickJSHandle;
  serialize: QuickJSHandle;
}

/** A locked-down QuickJS runtime and context, reused by the activations of one thread. */
export class Environment {
  readonly runtime: QuickJSRuntime;
  readonly context: QuickJSContext;
  readonly #compiled = new Map<string, Compiled>();
  readonly #reseed: QuickJSHandle;
  readonly #setTime: QuickJSHandle;
  readonly #globalsIntact: QuickJSHandle;
  /** The host function the guest's `console` prints through; lines go to `printed`. */
  readonly sink: QuickJSHandle;
  printed: CapturedConsole = { lines: [], dropped: 0 };
  #printedChars = 0;
  /** Activations run here so far. */
  served = 0;

  constructor(module: QuickJSWASMModule) {
    this.runtime = module.newRuntime();
    this.runtime.setMaxStackSize(STACK_LIMIT_BYTES);
    this.context = this.runtime.newContext();
    // Before LOCKDOWN: the helpers are frozen with every other global.
    this.#setTime = this.context.unwrapResult(this.context.evalCode(HELPERS_SOURCE, 'helpers.js'));
    this.#globalsIntact = this.context.unwrapResult(this.context.evalCode(GLOBAL_GUARD_SOURCE, 'global-guard.js'));
    this.#reseed = this.context.unwrapResult(this.context.evalCode(LOCKDOWN, 'lockdown.js'));
    if (!this.#checkGlobals()) throw new Error('the sandbox globals could not be recorded'); // records them
    this.sink = this.context.newFunction('print', (levelHandle, textHandle) => {
      const level = this.context.getString(levelHandle) as ConsoleLine['level'];
      const text = this.context.getString(textHandle);
      const line = text.length > CONSOLE_LIMIT.lineChars ? `${text.slice(0, CONSOLE_LIMIT.lineChars)}…` : text;
      const { printed } = this;
      if (printed.lines.length >= CONSOLE_LIMIT.lines || this.#printedChars + line.length > CONSOLE_LIMIT.chars) {
        printed.dropped += 1;
        return;
      }
      printed.lines.push({ level: CONSOLE_LEVELS.includes(level) ? level : 'log', text: line });
      this.#printedChars += line.length;
    });
  }

  /** Starts an activation's console afresh. */
  clearConsole(): void {
    this.printed = { lines: [], dropped: 0 };
    this.#printedChars = 0;
  }

  /** A fresh seed for Math.random, so no activation can predict or observe another's draws. */
  reseed(): void {
    const seed = [...randomFillSync(new Uint32Array(4))].map((word) => this.context.newNumber(word | 0));
    this.context.unwrapResult(this.context.callFunction(this.#reseed, this.context.undefined, ...seed)).dispose();
    for (const handle of seed) handle.dispose();
  }

  /** The activation's time, the one clock the helpers read (NaN: not known, `$date.now()` throws). */
  setTime(ms: number | undefined): void {
    const time = this.context.newNumber(ms ?? Number.NaN);
    this.context.unwrapResult(this.context.callFunction(this.#setTime, this.context.undefined, time)).dispose();
    time.dispose();
  }

  /** The wrapper of `request`'s code, compiled once per source; a syntax error as a handle. */
  compiled(request: ThreadRequest): { ok: Compiled } | { error: QuickJSHandle } {
    const key = `${request.mode}\0${request.source}`;
    const cached = this.#compiled.get(key);
    if (cached) return { ok: cached };
    const result = this.context.evalCode(wrapperOf(request), USER_CODE_FILE);
    if (result.error) return { error: result.error };
    const [call, serialize] = [0, 1].map((index) => this.context.getProp(result.value, index)) as [
      QuickJSHandle,
      QuickJSHandle,
    ];
    result.value.dispose();
    if (this.#compiled.size >= MAX_COMPILED) {
      const [oldestKey, oldest] = this.#compiled.entries().next().value as [string, Compiled];
      oldest.call.dispose();
      oldest.serialize.dispose();
      this.#compiled.delete(oldestKey);
    }
    const compiled = { call, serialize };
    this.#compiled.set(key, compiled);
    return { ok: compiled };
  }

  /** Whether user code left work queued (a promise job) or changed a global: then this environment is not reused. */
  get clean(): boolean {
    return !this.runtime.hasPendingJob() && this.#checkGlobals();
  }

  /** Whether every global is what it was at lockdown (see global-guard.ts); false when unsure. */
  #checkGlobals(): boolean {
    const result = this.context.callFunction(this.#globalsIntact, this.context.undefined);
    if (result.error) {
      result.error.dispose();
      return false;
    }
    const intact = this.context.dump(result.value) === true;
    result.value.dispose();
    return intact;
  }

  /** False when QuickJS failed its own teardown. */
  dispose(): boolean {
    for (const handle of [this.#reseed, this.#setTime, this.#globalsIntact, this.sink])
      if (!disposed(() => handle.dispose())) return false;
    for (const { call, serialize } of this.#compiled.values())
      if (!disposed(() => call.dispose()) || !disposed(() => serialize.dispose())) return false;
    this.#compiled.clear();
    return disposed(() => this.context.dispose()) && disposed(() => this.runtime.dispose());
  }
}

/** Runs one activation in `environment`. `exhausted`: whether the WebAssembly memory refused to
 * grow during this activation. Not `intact`: the environment and its thread must go. */
export function evaluate(environment: Environment, request: ThreadRequest, exhausted: () => boolean): Evaluation {
  const { runtime } = environment;
  try {
    // QuickJS's own count is only a hint in this build (it cannot measure its blocks); the bound
    // that holds is the thread's WebAssembly memory maximum (see sandbox-thread.ts).
    runtime.setMemoryLimit(request.memoryLimitBytes);
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + request.timeoutMs));
    environment.reseed();
    environment.setTime(request.now);
    environment.clearConsole();
    environment.served += 1;
    let outcome = run(environment, request);
    // Out of memory, QuickJS may throw null (no memory left for an error): the refused growth tells.
    if (!outcome.ok && exhausted()) outcome = { ok: false, error: outOfMemory(request) };
    // After an interrupt or out of memory its heap may be inconsistent, and its teardown abort.
    if (!outcome.ok && (outcome.error.kind === 'code.memory' || outcome.error.kind === 'code.timeout'))
      return { outcome, intact: false, console: environment.printed };
    runtime.removeInterruptHandler();
    return { outcome, intact: true, console: environment.printed };
  } catch (error) {
    // Unwound through QuickJS: its heap is inconsistent and tearing it down would abort. The
    // thread is replaced, and the instance goes with it.
    if (error instanceof SandboxDamaged) return { outcome: error.outcome, intact: false, console: environment.printed };
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

/** The wrapper around user code: [call(inputJson), serialize(maxBytes)], frozen like everything else.
 * Two calls, so that a result too deep for JSON.stringify's recursion is told apart from the code's
 * own failure, and measured against the output limit before it leaves QuickJS. */
function wrapperOf(request: ThreadRequest): string {
  // QuickJS reports `new Function` code as file "<input>", the body starting on line 3: error
  // lines are shifted back by LINE_OFFSET[mode] (see failureOf).
  const body =
    request.mode === 'function'
      ? `"use strict";\n${request.source}\n`
      : `"use strict";\nreturn (\n${request.source}\n);`;
  // `console` is a parameter, made per call around the host's sink: the global object is frozen,
  // and a console of its own per activation keeps nothing from one activation to the next.
  return `(function () {
  const __fn = Object.freeze(new Function('input', 'console', ${JSON.stringify(body)}));
  const __text = (value) => {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return value.name + ': ' + value.message;
    if (typeof value === 'function') return '[Function' + (value.name ? ': ' + value.name : '') + ']';
    if (typeof value === 'bigint') return String(value) + 'n';
    if (value === undefined || typeof value === 'symbol') return String(value);
    try { const text = JSON.stringify(value); return text === undefined ? String(value) : text; } catch { return String(value); }
  };
  let __result;
  return Object.freeze([
    Object.freeze(function (__json, __sink) {
      __result = undefined;
      const __print = (level) => Object.freeze((...values) => { __sink(level, values.map(__text).join(' ')); });
      const __console = Object.freeze({
        log: __print('log'), info: __print('info'), warn: __print('warn'), error: __print('error'), debug: __print('log'),
      });
      __result = __fn(JSON.parse(__json), __console);
    }),
    Object.freeze(function (__max) {
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
      // UTF-16 units are a lower bound of UTF-8 bytes, exact for ASCII (the host measures the rest).
      if (__text !== undefined && __text.length > __max)
        throw { ${MARKER}: 'too-large', length: __text.length, ascii: !/[^\\x00-\\x7f]/.test(__text) };
      return __text;
    }),
  ]);
})()`;
}

function run(environment: Environment, request: ThreadRequest): ThreadOutcome {
  const { context } = environment;
  const compiled = environment.compiled(request);
  if ('error' in compiled) return failed(context, compiled.error, request);
  const { call, serialize } = compiled.ok;
  const json = context.newString(request.inputJson);
  const called = callGuarded(context, call, [json, environment.sink], {
    kind: 'code.error',
    message: 'InternalError: stack overflow (recursion too deep)',
  });
  json.dispose();
  if (called.error) return failed(context, called.error, request);
  called.value.dispose();
  const max = context.newNumber(request.maxOutputBytes);
  const result = callGuarded(context, serialize, [max], failureOf({ [MARKER]: 'too-deep' }, request));
  max.dispose();
  if (result.error) return failed(context, result.error, request);
  const text = context.typeof(result.value) === 'string' ? context.getString(result.value) : null;
  result.value.dispose();
  if (text !== null) {
    const bytes = Buffer.byteLength(text);
    if (bytes > request.maxOutputBytes) return { ok: false, error: tooLarge(bytes, false, request) };
  }
  return { ok: true, json: text };
}

/** Native recursion in WebAssembly (JSON.stringify, a deep structure) can exhaust the thread's own
 * stack before QuickJS's check: V8 unwinds through QuickJS, and `onOverflow` is the outcome. */
function callGuarded(context: QuickJSContext, fn: QuickJSHandle, args: QuickJSHandle[], onOverflow: ThreadFailure) {
  try {
    return context.callFunction(fn, context.undefined, ...args);
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
  const marked = (failure ?? {}) as { [MARKER]?: string; length?: number; ascii?: boolean };
  if (marked[MARKER] === 'too-large') return tooLarge(marked.length ?? 0, marked.ascii !== true, request);
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

function tooLarge(bytes: number, atLeast: boolean, request: ThreadRequest): ThreadFailure {
  return {
    kind: OUTPUT_TOO_LARGE,
    message: outputTooLargeMessage(bytes, request.maxOutputBytes, atLeast),
    details: { bytes, limitBytes: request.maxOutputBytes },
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
