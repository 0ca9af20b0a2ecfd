// The wire frames every transport carries (JSON text over a WebSocket, objects over a MessagePort).
// `host` frames come from the process that supervises the engine host, not from the host itself.
import { z } from 'zod';
import { apiErrorCodes } from './contract.js';
import { problemSchema } from './schemas.js';

export const requestFrameSchema = z.strictObject({
  t: z.literal('req'),
  id: z.number().int().nonnegative(),
  method: z.string(),
  params: z.unknown(),
});
export type RequestFrame = z.infer<typeof requestFrameSchema>;

export const errorBodySchema = z.object({
  code: z.enum(apiErrorCodes),
  message: z.string(),
  problems: z.array(problemSchema).default([]),
  /** Why, more finely than `code`, for callers that branch on it (e.g. `already-decided`). */
  reason: z.string().optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const responseFrameSchema = z.union([
  z.strictObject({ t: z.literal('res'), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ t: z.literal('res'), id: z.number().int(), ok: z.literal(false), error: errorBodySchema }),
]);
export type ResponseFrame = z.infer<typeof responseFrameSchema>;

export const eventFrameSchema = z.strictObject({ t: z.literal('evt'), event: z.string(), data: z.unknown() });
export type EventFrame = z.infer<typeof eventFrameSchema>;

/** 'restarting': the engine host died and is being started again; 'ready': it answers requests. */
export const hostFrameSchema = z.strictObject({ t: z.literal('host'), state: z.enum(['ready', 'restarting']) });
export type HostFrame = z.infer<typeof hostFrameSchema>;

export const serverFrameSchema = z.union([responseFrameSchema, eventFrameSchema, hostFrameSchema]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

export { MAX_WEBSOCKET_FRAME_BYTES } from './schemas.js';

/**
 * How deeply a request frame may nest (objects and arrays). Far above what any method needs, and
 * low enough that code walking a request recursively cannot run out of stack.
 */
export const MAX_FRAME_DEPTH = 256;

/** Frames arrive as JSON text (WebSocket) or as cloned objects (MessagePort). */
export function decodeFrame(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

export { describeIssues } from '../model/issues.js';
