// Wait kinds: a registry, like node types. Each kind is one file declaring its request shape,
// rows, timers, resolution, parking and display; adding a kind is that file and one entry below.
// Pure and shared (zod only): the sdk, the journal's event catalogue, the runtime and the API use it.
import { z } from 'zod';
import { approvalRequestSchema, approvalWait } from './approval.js';
import { timerRequestSchema, timerWait } from './timer.js';
import type { WaitKind } from './wait-kind.js';

export * from './wait-kind.js';
export { approvalSignalSchema, type ApprovalSignal } from './approval.js';
export { isoTime } from './timer.js';

/** Every wait a node can ask for. */
export const waitRequestSchema = z.discriminatedUnion('kind', [timerRequestSchema, approvalRequestSchema]);
export type WaitRequest = z.infer<typeof waitRequestSchema>;

/** A kind with its request type erased, for code that handles every kind the same way. Safe
 * because a kind is only ever called with requests whose `kind` names it (see `waitKindOf`). */
export type AnyWaitKind = WaitKind<WaitRequest, unknown>;

const KINDS: Record<WaitRequest['kind'], AnyWaitKind> = {
  timer: timerWait,
  approval: approvalWait,
};

export function waitKindOf(request: WaitRequest): AnyWaitKind {
  return KINDS[request.kind];
}
