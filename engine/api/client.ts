// The client side of the contract, over any Connection (WebSocket in served mode, MessagePort in
// the desktop app). Requests wait while the engine is unreachable and are sent once it is back;
// requests in flight when it goes away fail with 'unavailable' (the host may or may not have
// done them), so callers retry what is safe to retry. Every response and event is validated.
import {
  ApiError,
  engineEvents,
  engineMethods,
  isEventName,
  isMethodName,
  type EngineApi,
  type EventData,
  type EventName,
  type MethodName,
  type Params,
  type Result,
} from './contract.js';
import { decodeFrame, describeIssues, serverFrameSchema, type RequestFrame } from './protocol.js';

/** A transport. It reconnects by itself and reports each open and close. */
export interface Connection {
  start(handlers: { frame(raw: unknown): void; open(): void; close(): void }): void;
  /** Throws an ApiError when the transport cannot carry this frame (e.g. too large); nothing is sent. */
  send(frame: RequestFrame): void;
  stop(): void;
}

/** 'connecting' until first ready; 'reconnecting' while the transport or the engine host is down. */
export type ClientStatus = 'connecting' | 'ready' | 'reconnecting' | 'stopped';

interface Pending {
  method: MethodName;
  resolve(value: unknown): void;
  reject(error: ApiError): void;
}

export class EngineClient {
  readonly api: EngineApi;
  readonly #connection: Connection;
  readonly #pending = new Map<number, Pending>();
  readonly #queue: RequestFrame[] = [];
  readonly #eventListeners = new Map<EventName, Set<(data: never) => void>>();
  readonly #statusListeners = new Set<(status: ClientStatus) => void>();
  readonly #onProtocolError: (message: string) => void;
  #nextId = 1;
  #status: ClientStatus = 'connecting';
  #transportOpen = false;
  #hostReady = true;

  constructor(connection: Connection, options: { onProtocolError?: (message: string) => void } = {}) {
    this.#connection = connection;
    this.#onProtocolError = options.onProtocolError ?? (() => {});
    const api: Partial<Record<MethodName, (params: unknown) => Promise<unknown>>> = {};
    for (const name of Object.keys(engineMethods)) {
      if (isMethodName(name)) api[name] = (params) => this.#call(name, params);
    }
    this.api = api as EngineApi;
    connection.start({
      frame: (raw) => this.#receive(raw),
      open: () => {
        this.#transportOpen = true;
        this.#hostReady = true;
        this.#update();
      },
      close: () => {
        this.#transportOpen = false;
        this.#failInFlight('the connection to the engine was lost');
        this.#update();
      },
    });
  }

  get status(): ClientStatus {
    return this.#status;
  }

  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    return this.#call(method, params) as Promise<Result<M>>;
  }

  on<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void {
    let listeners = this.#eventListeners.get(event);
    if (!listeners) this.#eventListeners.set(event, (listeners = new Set()));
    const entry = listener as (data: never) => void;
    listeners.add(entry);
    return () => listeners.delete(entry);
  }

  onStatus(listener: (status: ClientStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  stop(): void {
    this.#connection.stop();
    this.#failInFlight('the client was stopped');
    for (const frame of this.#queue.splice(0)) this.#settle(frame.id)?.reject(stopped());
    this.#setStatus('stopped');
  }

  #call(method: MethodName, params: unknown): Promise<unknown> {
    if (this.#status === 'stopped') return Promise.reject(stopped());
    const id = this.#nextId++;
    const frame: RequestFrame = { t: 'req', id, method, params: params ?? {} };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
      if (this.#status === 'ready') this.#send(frame);
      else this.#queue.push(frame);
    });
  }

  #receive(raw: unknown): void {
    const parsed = serverFrameSchema.safeParse(decodeFrame(raw));
    if (!parsed.success) {
      this.#onProtocolError(`ignored a malformed frame from the engine: ${describeIssues(parsed.error)}`);
      return;
    }
    const frame = parsed.data;
    if (frame.t === 'host') {
      this.#hostReady = frame.state === 'ready';
      this.#update();
    } else if (frame.t === 'evt') {
      this.#emit(frame.event, frame.data);
    } else {
      const pending = this.#settle(frame.id);
      if (!pending) return;
      if (!frame.ok) {
        pending.reject(new ApiError(frame.error.code, frame.error.message, frame.error.problems, frame.error.reason));
        return;
      }
      const result = engineMethods[pending.method].result.safeParse(frame.result);
      if (result.success) pending.resolve(result.data);
      else
        pending.reject(
          new ApiError('internal', `the engine answered ${pending.method} with ${describeIssues(result.error)}`),
        );
    }
  }

  #emit(event: string, data: unknown): void {
    if (!isEventName(event)) {
      this.#onProtocolError(`ignored unknown event "${event}"`);
      return;
    }
    const parsed = engineEvents[event].safeParse(data);
    if (!parsed.success) {
      this.#onProtocolError(`ignored event ${event}: ${describeIssues(parsed.error)}`);
      return;
    }
    for (const listener of this.#eventListeners.get(event) ?? []) (listener as (data: unknown) => void)(parsed.data);
  }

  #send(frame: RequestFrame): void {
    try {
      this.#connection.send(frame);
    } catch (error) {
      const refused = error instanceof ApiError ? error : new ApiError('internal', String(error));
      this.#settle(frame.id)?.reject(refused);
    }
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    return pending;
  }

  #failInFlight(reason: string): void {
    const queued = new Set(this.#queue.map((frame) => frame.id));
    for (const [id, pending] of [...this.#pending]) {
      if (queued.has(id)) continue;
      this.#pending.delete(id);
      pending.reject(new ApiError('unavailable', `${pending.method}: ${reason}`));
    }
  }

  #update(): void {
    const ready = this.#transportOpen && this.#hostReady;
    if (ready) {
      this.#setStatus('ready');
      for (const frame of this.#queue.splice(0)) this.#send(frame);
    } else if (this.#status !== 'connecting' && this.#status !== 'stopped') this.#setStatus('reconnecting');
  }

  #setStatus(status: ClientStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    for (const listener of this.#statusListeners) listener(status);
  }
}

function stopped(): ApiError {
  return new ApiError('unavailable', 'the engine client was stopped');
}
