// The host side of the contract: validates an incoming request frame against the method's params
// schema, calls the implementation and turns the outcome (or any error) into a response frame.
// It never throws: whatever a client sends, the host answers (or ignores) it and stays up.
import { ApiError, engineMethods, isMethodName, type EngineApi, type MethodName } from './contract.js';
import { describeDepthExcess, jsonDepthExcess } from '../model/json-limits.js';
import { decodeFrame, describeIssues, MAX_FRAME_DEPTH, requestFrameSchema, type ResponseFrame } from './protocol.js';

export async function dispatch(api: EngineApi, raw: unknown): Promise<ResponseFrame | null> {
  const decoded = decodeFrame(raw);
  // Without an id there is no one to answer.
  const id = idOf(decoded);
  try {
    // Checked before anything recursive sees the frame (the relay to the host, zod, the engine).
    const tooDeep = jsonDepthExcess(decoded, MAX_FRAME_DEPTH);
    if (tooDeep)
      throw new ApiError('bad-request', describeDepthExcess('the request', 'request', tooDeep, MAX_FRAME_DEPTH));
    const frame = requestFrameSchema.safeParse(decoded);
    if (!frame.success) throw new ApiError('bad-request', `malformed request: ${describeIssues(frame.error)}`);
    const { id: requestId, method, params } = frame.data;
    if (!isMethodName(method)) throw new ApiError('bad-request', `unknown method "${method.slice(0, 100)}"`);
    const parsed = engineMethods[method].params.safeParse(params ?? {});
    if (!parsed.success)
      throw new ApiError('bad-request', `${method}: invalid params: ${describeIssues(parsed.error)}`);
    return { t: 'res', id: requestId, ok: true, result: await call(api, method, parsed.data) };
  } catch (error) {
    return id === null ? null : failure(id, error);
  }
}

function call(api: EngineApi, method: MethodName, params: unknown): Promise<unknown> {
  // The params were validated against this method's own schema just above.
  const fn = api[method] as (params: unknown) => Promise<unknown>;
  return fn.call(api, params);
}

function failure(id: number, error: unknown): ResponseFrame {
  if (error instanceof ApiError)
    return {
      t: 'res',
      id,
      ok: false,
      error: {
        code: error.code,
        message: error.message,
        problems: error.problems,
        ...(error.reason !== undefined && { reason: error.reason }),
      },
    };
  const message = error instanceof Error ? error.message : String(error);
  return { t: 'res', id, ok: false, error: { code: 'internal', message, problems: [] } };
}

function idOf(value: unknown): number | null {
  if (value === null || typeof value !== 'object' || !('id' in value)) return null;
  return typeof value.id === 'number' ? value.id : null;
}
