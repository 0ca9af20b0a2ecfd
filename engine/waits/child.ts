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
