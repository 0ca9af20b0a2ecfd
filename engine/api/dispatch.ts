// The host side of the contract: validates an incoming request frame against the method's params
// schema, calls the implementation and turns the outcome (or any error) into a response frame.
import { ApiError, engineMethods, isMethodName, type EngineApi, type MethodName } from './contract.js';
import { decodeFrame, describeIssues, requestFrameSchema, type ResponseFrame } from './protocol.js';

export async function dispatch(api: EngineApi, raw: unknown): Promise<ResponseFrame | null> {
  const frame = requestFrameSchema.safeParse(decodeFrame(raw));
  if (!frame.success) {
    const id = idOf(decodeFrame(raw));
    // Without an id there is no one to answer.
    return id === null
      ? null
      : failure(id, new ApiError('bad-request', `malformed request: ${describeIssues(frame.error)}`));
  }
  const { id, method, params } = frame.data;
  if (!isMethodName(method)) return failure(id, new ApiError('bad-request', `unknown method "${method}"`));
  const parsed = engineMethods[method].params.safeParse(params ?? {});
  if (!parsed.success)
    return failure(id, new ApiError('bad-request', `${method}: invalid params: ${describeIssues(parsed.error)}`));
  try {
    const result = await call(api, method, parsed.data);
    return { t: 'res', id, ok: true, result };
  } catch (error) {
    return failure(id, error);
  }
}

function call(api: EngineApi, method: MethodName, params: unknown): Promise<unknown> {
  // The params were validated against this method's own schema just above.
  const fn = api[method] as (params: unknown) => Promise<unknown>;
  return fn.call(api, params);
}

function failure(id: number, error: unknown): ResponseFrame {
  if (error instanceof ApiError)
    return { t: 'res', id, ok: false, error: { code: error.code, message: error.message, problems: error.problems } };
  const message = error instanceof Error ? error.message : String(error);
  return { t: 'res', id, ok: false, error: { code: 'internal', message, problems: [] } };
}

function idOf(value: unknown): number | null {
  if (value === null || typeof value !== 'object' || !('id' in value)) return null;
  return typeof value.id === 'number' ? value.id : null;
}
