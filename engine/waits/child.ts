// child: parks a node while a child run (a sub-workflow) runs; the child's end resolves it with
// the child's output or error. Not an inbox row and not a signal anyone may send: only the runtime,
// in the commit that ends the child, resolves it (runtime/children.ts).
import { z } from 'zod';
import { defineWaitKind } from './wait-kind.js';

export const childRequestSchema = z.strictObject({
  kind: z.literal('child'),
  workflowId: z.string().min(1),
  /** Resolved when the node first executed ("latest" never reaches the journal). */
  version: z.number().int().positive(),
  /** The child's run id, derived from the parent's run, activation and attempt (`childRunId`). */
  runId: z.string().min(1),
  input: z.unknown(),
});
export type ChildWaitRequest = z.infer<typeof childRequestSchema>;

export const childStatuses = ['completed', 'failed', 'cancelled'] as const;

/** What the parent's journal records of the child's end. */
export const childRecordSchema = z.strictObject({
  wait: z.literal('child'),
  by: z.string(),
  runId: z.string(),
  status: z.enum(childStatuses),
});
export type ChildWaitRecord = z.infer<typeof childRecordSchema>;

/** How the child ended, as the runtime tells it. */
export interface ChildEnd {
  runId: string;
  status: (typeof childStatuses)[number];
  output: unknown;
  error: { message: string; kind: string } | null;
}

/** What `resume` gets. */
export type ChildOutcome = { kind: 'child' } & ChildEnd;

/**
 * The child run of an activation's attempt: the parent's 9 time digits (so ids stay time-ordered)
 * and 10 hex digits of a hash of (parent, activation, attempt). Deterministic, so a recovered
 * parent names the same child and can never start a second one; a retry (a new attempt) names a
 * new one. Pure (no node:crypto): the sdk and the runtime both compute it.
 */
export function childRunId(parentRunId: string, activationId: string, attempt: number): string {
  const text = `${parentRunId}\u0000${activationId}\u0000${attempt}`;
  // Two independent 32-bit FNV-1a style hashes: 40 bits are used.
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x5bd1e995) >>> 0;
    b = (b ^ (b >>> 15)) >>> 0;
  }
  const hex = `${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`.slice(0, 10);
  return `${parentRunId.slice(0, 9).padStart(9, '0')}${hex}`;
}

/** The resolution of a child wait by the child's end. */
export function childResolution(end: ChildEnd): { record: ChildWaitRecord; outcome: ChildOutcome } {
  return {
    record: { wait: 'child', by: `run ${end.runId}`, runId: end.runId, status: end.status },
    outcome: { kind: 'child', ...end },
  };
}

export const childWait = defineWaitKind<ChildWaitRequest, never, ChildWaitRecord, ChildOutcome>({
  kind: 'child',
  label: 'Child run',
  phrase: 'a child run',
  request: childRequestSchema,
  timers: () => [],
  inbox: () => null,
  // Only the child's end moves the parent on: to the parent, that is like waiting for a signal.
  parked: () => true,
  describe: (request) => `run ${request.runId} of "${request.workflowId}" v${request.version}`,
  onTimer: () => {
    throw new Error('a child wait sets no timers');
  },
  // Nobody may end a child wait from outside: only the child's own end does (runtime/children.ts).
  signal: null,
  record: {
    schema: childRecordSchema,
    summary: (record) => `child run ${record.runId} ${record.status}`,
    detail: (record) => `child run ${record.runId} ${record.status}`,
    inbox: (record) => ({ decision: `child:${record.status}`, comment: null }),
  },
});

// ---------------------------------------------------------------------------------------------
// children: the fan-out of a `loop.map` node — one child run per item, at most `concurrency` at
// once. The same seam as `child` (started by the commit that parks the node, ended by the commits
// that end the children), with progress: each child's end but the last is journaled on the parent
// as a pending record (`SignalReceived` with `pending: true`, folded into the activation's `votes`)
// and starts the next item; so after a crash the finished items are known from the parent's journal
// and never run again, and which items run is a function of that journal alone.

/**
 * Items of one fan-out. Bounded because the whole list is journaled in one `WaitCreated` and each
 * child is a run with its own journal: 10,000 keeps the event and the parent's fold (every end
 * scans what ended so far) small, and a larger job is better split in batches by the workflow.
 */
export const MAX_CHILD_ITEMS = 10_000;
/** Children running at once, at most: more would only queue behind the engine's own concurrency. */
export const MAX_CHILD_CONCURRENCY = 100;

export const childrenRequestSchema = z.strictObject({
  kind: z.literal('children'),
  workflowId: z.string().min(1),
  /** Resolved when the node first executed, as for `child`. */
  version: z.number().int().positive(),
  concurrency: z.number().int().min(1).max(MAX_CHILD_CONCURRENCY),
  /** `fail`: the first failed item fails the wait and cancels the running others; `collect`: it is an entry. */
  onItemError: z.enum(['fail', 'collect']),
  /** In item order; started in that order. Each run id is `itemRunId(parent, activation, attempt, index)`. */
  items: z
    .array(z.strictObject({ runId: z.string().min(1), input: z.unknown() }))
    .min(1)
    .max(MAX_CHILD_ITEMS),
});
export type ChildrenWaitRequest = z.infer<typeof childrenRequestSchema>;

const childErrorSchema = z.strictObject({ message: z.string(), kind: z.string() });

/** One item's end, as the parent's journal records it. */
export const childrenRecordSchema = z.strictObject({
  wait: z.literal('children'),
  by: z.string(),
  index: z.number().int().min(0),
  runId: z.string(),
  status: z.enum(childStatuses),
  output: z.unknown(),
  error: childErrorSchema.nullable(),
  /** The output's size as JSON text (UTF-16 units: never more than its UTF-8 bytes). */
  size: z.number().int().min(0),
});
export type ChildrenWaitRecord = z.infer<typeof childrenRecordSchema>;

/** What `resume` gets: the items that ended, in item order (all of them, unless one failed the wait). */
export interface ChildrenOutcome {
  kind: 'children';
  onItemError: 'fail' | 'collect';
  ended: ChildrenWaitRecord[];
  /** Set when the outputs so far were already over the node's output limit: the fan-out stopped. */
  overLimit?: { size: number; limitBytes: number };
}

/**
 * The run id of item `index`: the activation's child run id and the index. Distinct per item by
 * construction (10,000 hashed ids would collide once in ~20,000 fan-outs), as stable as
 * `childRunId`, and still time-ordered.
 */
export function itemRunId(parentRunId: string, activationId: string, attempt: number, index: number): string {
  return `${childRunId(parentRunId, activationId, attempt)}-${index.toString(36)}`;
}

/**
 * The ends an earlier attempt of the same activation hands to a new fan-out (a redrive, a retry):
 * its completed items, which are not run again — their effects happened, under their own keys.
 * Failed, cancelled and never-started items run again as this attempt's children.
 */
export function carriedEnds<T extends { wait: string }>(previous: readonly T[], request: { kind: string }): T[] {
  if (request.kind !== 'children') return [];
  const { items } = request as ChildrenWaitRequest;
  const byIndex = new Map<number, T>();
  for (const entry of previous) {
    const record = entry as unknown as ChildrenWaitRecord;
    if (record.wait === 'children' && record.status === 'completed' && record.index < items.length)
      if (!byIndex.has(record.index)) byIndex.set(record.index, entry);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
}

type EndedItem = { readonly index: number; readonly runId: string };

/**
 * The order items start in: every item but those carried from an earlier attempt (their recorded
 * run id is not this attempt's), by index; the first `concurrency`, then one more per item that
 * ended. `count`: how many have started; `at(k)`: the k-th to start; `endedHere`: the ends of this
 * attempt's children. Without carried items (the usual case) nothing is allocated: this runs for
 * every commit of a run with an open fan-out.
 */
function startOrder(
  request: ChildrenWaitRequest,
  pending: readonly EndedItem[],
): { count: number; at: (k: number) => number; endedHere: number } {
  const carried = pending.filter((record) => request.items[record.index]?.runId !== record.runId);
  if (carried.length === 0)
    return {
      count: Math.min(request.items.length, request.concurrency + pending.length),
      at: (k) => k,
      endedHere: pending.length,
    };
  const skip = new Set(carried.map((record) => record.index));
  const order: number[] = [];
  for (let index = 0; index < request.items.length; index += 1) if (!skip.has(index)) order.push(index);
  const endedHere = pending.length - carried.length;
  return { count: Math.min(order.length, request.concurrency + endedHere), at: (k) => order[k] ?? -1, endedHere };
}

/** The items this wait has started, in the order they started. */
export function startedItems(request: ChildrenWaitRequest, pending: readonly EndedItem[]): number[] {
  const { count, at } = startOrder(request, pending);
  return Array.from({ length: count }, (_, k) => at(k));
}

const indexByRunId = new WeakMap<ChildrenWaitRequest, Map<string, number>>();

/** The item a child run is for (-1: none). Cached per request: a request object is immutable. */
export function itemIndexOf(request: ChildrenWaitRequest, runId: string): number {
  let map = indexByRunId.get(request);
  if (!map) {
    map = new Map(request.items.map((item, index) => [item.runId, index]));
    indexByRunId.set(request, map);
  }
  return map.get(runId) ?? -1;
}

/**
 * The items started and not yet ended, given the ends journaled as pending (the wait still open).
 * Walks down from the last started item and stops once it has found them all: at most
 * `concurrency` are running, and the ones that ended are mostly the first.
 */
export function runningItems(request: ChildrenWaitRequest, pending: readonly EndedItem[]): number[] {
  const { count, at, endedHere } = startOrder(request, pending);
  let left = count - endedHere;
  if (left <= 0) return [];
  const ended = new Set(pending.map((record) => record.index));
  const running: number[] = [];
  for (let k = count - 1; k >= 0 && left > 0; k -= 1) {
    const index = at(k);
    if (!ended.has(index)) {
      running.push(index);
      left -= 1;
    }
  }
  return running.reverse();
}

/** What one child's end does to the fan-out: a pending record (and the next item to start) or the end. */
export type ChildrenStep =
  | { done: false; record: ChildrenWaitRecord; start: number[] }
  | { done: true; record: ChildrenWaitRecord; outcome: ChildrenOutcome; cancel: number[] };

/**
 * Pure: the fan-out after item `index` ended, given the ends journaled before it. `limitBytes`, the
 * node's output limit: once the outputs so far cannot fit in it the fan-out stops there, rather
 * than running every other item for an output that will be refused.
 */
export function childrenStep(
  request: ChildrenWaitRequest,
  pending: readonly ChildrenWaitRecord[],
  index: number,
  end: ChildEnd,
  limitBytes: number,
): ChildrenStep {
  const output = end.status === 'completed' ? end.output : null;
  const record: ChildrenWaitRecord = {
    wait: 'children',
    by: `run ${end.runId}`,
    index,
    runId: end.runId,
    status: end.status,
    output,
    error: end.error,
    size: JSON.stringify(output)?.length ?? 0,
  };
  // The output array's text is at least its entries' texts and a comma or bracket each.
  const size = pending.reduce((sum, ended) => sum + ended.size + 1, record.size + 1);
  const overLimit = size > limitBytes ? { size, limitBytes } : undefined;
  const failedWait = end.status !== 'completed' && request.onItemError === 'fail';
  if (failedWait || overLimit || pending.length + 1 === request.items.length) {
    const ended = [...pending, record].sort((a, b) => a.index - b.index);
    const cancel = runningItems(request, pending).filter((running) => running !== index);
    const outcome: ChildrenOutcome = { kind: 'children', onItemError: request.onItemError, ended };
    return { done: true, record, outcome: overLimit ? { ...outcome, overLimit } : outcome, cancel };
  }
  const before = startOrder(request, pending).count;
  const after = startOrder(request, [...pending, record]);
  const start: number[] = [];
  for (let k = before; k < after.count; k += 1) start.push(after.at(k));
  return { done: false, record, start };
}

export const childrenWait = defineWaitKind<ChildrenWaitRequest, never, ChildrenWaitRecord, ChildrenOutcome>({
  kind: 'children',
  label: 'Child runs',
  phrase: 'child runs',
  request: childrenRequestSchema,
  timers: () => [],
  inbox: () => null,
  parked: () => true,
  describe: (request) =>
    `${request.items.length} runs of "${request.workflowId}" v${request.version}, ${request.concurrency} at a time`,
  onTimer: () => {
    throw new Error('a children wait sets no timers');
  },
  signal: null,
  record: {
    schema: childrenRecordSchema,
    summary: (record) => `item ${record.index}: child run ${record.runId} ${record.status}`,
    detail: (record) =>
      `item ${record.index}: child run ${record.runId} ${record.status}${record.error ? ` (${record.error.message})` : ''}`,
    pendingLabel: 'progress',
    inbox: (record) => ({ decision: `children:${record.status}`, comment: null }),
  },
});
