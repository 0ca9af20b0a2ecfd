// A Connection over the `ws` WebSocket client, for tests of served mode from Node.
import WebSocket from 'ws';
import type { Connection, RequestFrame } from '../../engine/api/index.js';

type Handlers = Parameters<Connection['start']>[0];

export class NodeWebSocketConnection implements Connection {
  #socket: WebSocket | undefined;
  #handlers: Handlers | undefined;
  #stopped = false;

  constructor(private readonly url: string) {}

  start(handlers: Handlers): void {
    this.#handlers = handlers;
    this.#connect();
  }

  send(frame: RequestFrame): void {
    this.#socket?.send(JSON.stringify(frame));
  }

  stop(): void {
    this.#stopped = true;
    this.#socket?.close();
  }

  #connect(): void {
    const socket = new WebSocket(this.url);
    this.#socket = socket;
    let opened = false;
    socket.on('open', () => {
      opened = true;
      this.#handlers?.open();
    });
    socket.on('message', (data: Buffer) => this.#handlers?.frame(data.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (opened) this.#handlers?.close();
      if (!this.#stopped) setTimeout(() => this.#connect(), 100);
    });
  }
}
