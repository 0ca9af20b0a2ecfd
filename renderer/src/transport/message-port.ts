// Desktop: the EngineApi over a MessagePort to the engine host's utility process. The preload
// forwards each new port (the first one, and one after every engine host restart) with
// window.postMessage, because a MessagePort cannot cross contextBridge.
import type { Connection, RequestFrame } from '../../../engine/api/index.js';

type Handlers = Parameters<Connection['start']>[0];

export const PORT_MESSAGE = 'stepwise:engine-port';
export const STATE_MESSAGE = 'stepwise:engine-state';

export class MessagePortConnection implements Connection {
  #port: MessagePort | undefined;
  #handlers: Handlers | undefined;
  readonly #onWindowMessage = (event: MessageEvent<unknown>): void => {
    if (event.source !== window || !isTagged(event.data)) return;
    if (event.data.type === PORT_MESSAGE && event.ports[0]) this.#adopt(event.ports[0]);
    if (event.data.type === STATE_MESSAGE && event.data.state === 'restarting' && this.#port) {
      this.#port.close();
      this.#port = undefined;
      this.#handlers?.close();
    }
  };

  start(handlers: Handlers): void {
    this.#handlers = handlers;
    window.addEventListener('message', this.#onWindowMessage);
  }

  send(frame: RequestFrame): void {
    this.#port?.postMessage(frame);
  }

  stop(): void {
    window.removeEventListener('message', this.#onWindowMessage);
    this.#port?.close();
  }

  #adopt(port: MessagePort): void {
    this.#port?.close();
    this.#port = port;
    port.onmessage = (event: MessageEvent<unknown>) => this.#handlers?.frame(event.data);
    port.start();
    this.#handlers?.open();
  }
}

function isTagged(value: unknown): value is { type: string; state?: string } {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
