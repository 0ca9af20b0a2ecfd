// Served mode: the EngineApi over a WebSocket to 127.0.0.1, reconnecting with backoff.
import type { Connection, RequestFrame } from '../../../engine/api/index.js';

type Handlers = Parameters<Connection['start']>[0];

export class WebSocketConnection implements Connection {
  readonly #url: string;
  #socket: WebSocket | undefined;
  #handlers: Handlers | undefined;
  #stopped = false;
  #backoffMs = 200;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string) {
    this.#url = url;
  }

  start(handlers: Handlers): void {
    this.#handlers = handlers;
    this.#connect();
  }

  send(frame: RequestFrame): void {
    this.#socket?.send(JSON.stringify(frame));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket?.close();
  }

  #connect(): void {
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.#backoffMs = 200;
      this.#handlers?.open();
    };
    socket.onmessage = (event: MessageEvent<unknown>) => this.#handlers?.frame(event.data);
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      if (opened) this.#handlers?.close();
      if (this.#stopped) return;
      this.#timer = setTimeout(() => this.#connect(), this.#backoffMs);
      this.#backoffMs = Math.min(this.#backoffMs * 2, 3000);
    };
  }
}
