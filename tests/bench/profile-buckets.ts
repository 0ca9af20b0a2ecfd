// Where the engine's time goes, from node's own CPU profiler (`--cpu-prof`): the self time of each
// sampled function is given to one bucket of issue 11's profile summary (SQLite statements by kind,
// BEGIN/COMMIT, the runtime's bookkeeping, QuickJS, GC, …) by the names on its stack. Pure: the
// profile bench feeds it the files node wrote, the unit test a synthetic profile.

/** The `.cpuprofile` format V8 writes (only the fields read here). */
export interface CpuProfile {
  nodes: readonly CpuProfileNode[];
  /** Microseconds, on the same clock as `process.hrtime` (CLOCK_MONOTONIC on Linux). */
  startTime: number;
  endTime: number;
  samples: readonly number[];
  timeDeltas: readonly number[];
}

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: readonly number[];
}

export const BUCKETS = [
  'SQLite: event append',
  'SQLite: run-row update',
  'SQLite: run-row insert',
  'SQLite: conflict check (run seq, leases)',
  'SQLite: claimable',
  'SQLite: claim (lease)',
  'SQLite: ready rows (enqueue, dequeue)',
  'SQLite: timers, waits, other',
  'BEGIN/COMMIT (fsync at FULL)',
  'runtime bookkeeping',
  'sandbox hand-offs (postMessage)',
  'QuickJS',
  'GC',
  'other',
  'idle',
] as const;
export type Bucket = (typeof BUCKETS)[number];

/**
 * better-sqlite3 runs a statement in C++ without a frame of its own: its time is the self time of
 * the JS function that called it. So the store runs each kind of statement from a method of its
 * own (`engine/store/sqlite/sqlite-store.ts`), and this table names them.
 */
const STORE_METHODS: Readonly<Record<string, Bucket>> = {
  '#insertEvents': 'SQLite: event append',
  '#updateRunRow': 'SQLite: run-row update',
  '#insertRunRow': 'SQLite: run-row insert',
  '#checkRun': 'SQLite: conflict check (run seq, leases)',
  '#checkLeases': 'SQLite: conflict check (run seq, leases)',
  '#nextChange': 'SQLite: run-row update',
  '#hasClaimable': 'SQLite: claimable',
  '#claim': 'SQLite: claim (lease)',
  '#putReadyRows': 'SQLite: ready rows (enqueue, dequeue)',
  '#deleteReadyRows': 'SQLite: ready rows (enqueue, dequeue)',
};

const STORE_FILE = /\/engine\/store\/sqlite\/[^/]+\.js$/;
const TRANSACTION_FILE = /better-sqlite3\/lib\/methods\/transaction\.js$/;
const OUR_CODE = /\/(engine|nodes)\//;

/** The bucket of one frame, or undefined to look at its caller. */
function frameBucket(frame: CpuProfileNode['callFrame'], leaf: boolean): Bucket | undefined {
  const { functionName: name, url } = frame;
  if (leaf && name === '(garbage collector)') return 'GC';
  if (leaf && name === '(idle)') return 'idle';
  if (leaf && name === '(program)') return 'other';
  if (url.startsWith('wasm://') || /quickjs/i.test(url)) return 'QuickJS';
  if (url.endsWith('/engine/store/sqlite/sqlite-store.js'))
    return STORE_METHODS[name] ?? 'SQLite: timers, waits, other';
  // The wrapper's own self time is its BEGIN and COMMIT statements (the fsync happens in COMMIT).
  if (TRANSACTION_FILE.test(url)) return 'BEGIN/COMMIT (fsync at FULL)';
  if (leaf && name === 'postMessage') return 'sandbox hand-offs (postMessage)';
  return undefined;
}

/** A frame that decides only when nothing closer to the leaf did (see `bucketOf`). */
function fallbackBucket(frame: CpuProfileNode['callFrame']): Bucket | undefined {
  if (STORE_FILE.test(frame.url)) return 'SQLite: timers, waits, other';
  if (OUR_CODE.test(frame.url)) return 'runtime bookkeeping';
  return undefined;
}

/**
 * The bucket of a stack (leaf first): the frame nearest the leaf that names a specific bucket
 * decides (a statement method of the store, the transaction wrapper, QuickJS); else the nearest
 * frame of our own code (the runtime's bookkeeping, JSON and Node calls included); else "other".
 */
export function bucketOf(stack: readonly CpuProfileNode['callFrame'][]): Bucket {
  for (const [index, frame] of stack.entries()) {
    const bucket = frameBucket(frame, index === 0);
    if (bucket) return bucket;
  }
  for (const frame of stack) {
    const bucket = fallbackBucket(frame);
    if (bucket) return bucket;
  }
  return 'other';
}

/**
 * Self time per bucket, in µs. With `window` (µs on the profile's clock), only samples taken
 * inside it count: the concurrent phase, not start-up and warm-up.
 */
export function bucketProfile(profile: CpuProfile, window?: { from: number; to: number }): Map<Bucket, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const bucketOfNode = new Map<number, Bucket>();
  const totals = new Map<Bucket, number>();
  let at = profile.startTime;
  for (const [index, id] of profile.samples.entries()) {
    // A sample's delta is the time since the previous sample: it is the time this sample stands for.
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window && (at < window.from || at > window.to)) continue;
    let bucket = bucketOfNode.get(id);
    if (bucket === undefined) {
      const stack: CpuProfileNode['callFrame'][] = [];
      for (let node = byId.get(id); node; node = byId.get(parentOf.get(node.id) ?? -1)) stack.push(node.callFrame);
      bucket = bucketOf(stack);
      bucketOfNode.set(id, bucket);
    }
    totals.set(bucket, (totals.get(bucket) ?? 0) + delta);
  }
  return totals;
}
