// The user-code sandbox: QuickJS (WebAssembly) on a pool of worker threads, with no fs, network,
// process or timers, every intrinsic frozen so no activation can leave anything for another, and
// time and memory limits enforced by terminating threads. Runtime-only: the engine wires the pool; nodes reach it through `ctx.sandbox`.
export { SandboxPool, type SandboxPoolOptions } from './pool.js';
export { directFirst, DirectEvaluator } from './direct.js';
