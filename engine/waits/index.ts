// Wait kinds: a registry, like node types. Each kind is one file declaring its request shape,
// rows, timers, resolution, what a resolution records, parking and display; adding a kind is that
// file and its entries below (its request, its record, its outcome, its place in the registry).
// Pure and shared (zod only): the sdk, the journal's event catalogue, the runtime and the API use it.
import { z } from 'zod';
import { approvalRecordSchema, approvalRequestSchema, approvalWait, type ApprovalOutcome } from './approval.js';
import {
  signalRecordSchema as signalWaitRecordSchema,
  signalRequestSchema,
  signalWait,
  type SignalOutcome,
} from './signal.js';
import {
  childRecordSchema,
  childRequestSchema,
  childrenRecordSchema,
  childrenRequestSchema,
  childrenWait,
  childWait,
  type ChildOutcome,
  type ChildrenOutcome,
} from './child.js';
import { timerRequestSchema, timerWait, type TimerOutcome } from './timer.js';
import type { WaitKind } from './wait-kind.js';

export * from './wait-kind.js';
export * from './card.js';
export { approvalSignalSchema, cardOf, type ApprovalSignal, type ApprovalWaitRequest } from './approval.js';
export { compileJsonSchema, jsonSchemaObject, payloadProblem, type SignalSignal } from './signal.js';
export {
  childResolution,
  childRunId,
  childrenStep,
  itemIndexOf,
  itemRunId,
  MAX_CHILD_CONCURRENCY,
  MAX_CHILD_ITEMS,
  runningItems,
  startedItems,
  type ChildEnd,
  type ChildrenOutcome,
  type ChildrenWaitRecord,
  type ChildrenWaitRequest,
  type ChildWaitRequest,
} from './child.js';
export { misfirePolicies, type MisfirePolicy } from './timer.js';
export { isoTime } from '../model/duration.js';

/** Every wait a node can ask for. */
export const waitRequestSchema = z.discriminatedUnion('kind', [
  timerRequestSchema,
  approvalRequestSchema,
  signalRequestSchema,
  childRequestSchema,
  childrenRequestSchema,
]);
export type WaitRequest = z.infer<typeof waitRequestSchema>;

/** Every record a resolution journals (in `SignalReceived`), told apart by `wait`. */
export const signalRecordSchema = z.discriminatedUnion('wait', [
  approvalRecordSchema,
  signalWaitRecordSchema,
  childRecordSchema,
  childrenRecordSchema,
]);
export type SignalRecord = z.infer<typeof signalRecordSchema>;

/** What a node's `resume` gets when its wait ends. */
export type WaitOutcome = TimerOutcome | ApprovalOutcome | SignalOutcome | ChildOutcome | ChildrenOutcome;

/** A kind with its types erased, for code that handles every kind the same way. Safe because a
 * kind is only ever called with requests and records whose kind names it (see `waitKindOf`). */
export type AnyWaitKind = WaitKind<WaitRequest, unknown, SignalRecord, WaitOutcome>;

const KINDS: Record<WaitRequest['kind'], AnyWaitKind> = {
  timer: timerWait,
  approval: approvalWait,
  signal: signalWait,
  child: childWait,
  children: childrenWait,
};

/** The kind of a request (`kind`) or of a record (`wait`); undefined for a name no kind has. */
export function waitKindOf(request: WaitRequest): AnyWaitKind;
export function waitKindOf(name: string): AnyWaitKind | undefined;
export function waitKindOf(subject: WaitRequest | string): AnyWaitKind | undefined {
  const name = typeof subject === 'string' ? subject : subject.kind;
  return Object.hasOwn(KINDS, name) ? KINDS[name as WaitRequest['kind']] : undefined;
}
