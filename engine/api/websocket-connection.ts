// A Connection over a WebSocket, reconnecting with backoff: the browser's WebSocket in served mode,
// the `ws` package's in Node (tests, scripts). Pure: the socket comes from the caller's factory.
import type { Connection } from './client.js';
import { ApiError } from './contract.js';
import { MAX_WEBSOCKET_FRAME_BYTES, type RequestFrame } from './protocol.js';

type Handlers = Parameters<Connection['start']>[0];

/** What this connection needs of a WebSocket (the browser's and `ws` both have it). */
export interface WebSocketLike {
  addEventListener(type: 'open' | 'close' | 'message' | 'error', listener: (event: object) => void): void;
  send(data: string): void;
  close(): void;
}

const MAX_BACKOFF_MS = 3000;

export class WebSocketConnection implements Connection {
  readonly #url: string;
  readonly #createSocket: (url: string) => WebSocketLike;
  #socket: WebSocketLike | undefined;
  #handlers: Handlers | undefined;
  #stopped = false;
  #backoffMs = 100;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string, createSocket: (url: string) => WebSocketLike) {
    this.#url = url;
    this.#createSocket = createSocket;
  }

  start(handlers: Handlers): void {
    this.#handlers = handlers;
    this.#connect();
  }

  send(frame: RequestFrame): void {
    const text = JSON.stringify(frame);
    // The server closes the socket on a larger frame; refuse it here instead, with a reason.
    const bytes = text.length * 3 <= MAX_WEBSOCKET_FRAME_BYTES ? 0 : new TextEncoder().encode(text).length;
    if (bytes > MAX_WEBSOCKET_FRAME_BYTES)
      throw new ApiError(
        'bad-request',
        `${frame.method}: the request is ${bytes} bytes; served mode accepts at most ` +
          `${MAX_WEBSOCKET_FRAME_BYTES} bytes (${MAX_WEBSOCKET_FRAME_BYTES / (1024 * 1024)} MiB) per request`,
      );
    this.#socket?.send(text);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket?.close();
  }

  #connect(): void {
    const socket = this.#createSocket(this.#url);
    this.#socket = socket;
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      this.#backoffMs = 100;
      this.#handlers?.open();
    });
    socket.addEventListener('message', (event) => this.#handlers?.frame('data' in event ? event.data : undefined));
    // A failed connection attempt reports 'error' then 'close'; the retry is scheduled on 'close'.
    socket.addEventListener('error', () => {});
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      if (opened) this.#handlers?.close();
      if (this.#stopped) return;
      this.#timer = setTimeout(() => this.#connect(), this.#backoffMs);
      this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    });
  }
}
