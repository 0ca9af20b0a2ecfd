// An item endpoint on 127.0.0.1 for fan-out tests: POST /item {i} → {i, doubled}. It counts calls
// per item (with their idempotency keys) and requests in flight, fails the items `failing` names
// (400, not retried), and holds the requests `answerNow` refuses until `release`.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { readBody } from './harness.js';

export interface ItemServer {
  url: string;
  /** Calls per item `i`, in arrival order. */
  calls: number[];
  /** The `Idempotency-Key` of each call, in the same order. */
  keys: (string | undefined)[];
  inFlight: number;
  maxInFlight: number;
  /** Answered so far. */
  answered: number;
  /** Whether to answer a request for item `i` now (else it is held until `release`). */
  answerNow: (i: number) => boolean;
  /** Whether item `i` fails (400). */
  failing: (i: number) => boolean;
  /** Answers every held request, and from now on every request at once. */
  release(): void;
  close(): Promise<void>;
}

const servers: ItemServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** Started for the test calling it; closed after it. `delayMs`: how long each answer takes. */
export async function startItemServer(options: { delayMs?: number } = {}): Promise<ItemServer> {
  const held: { i: number; response: ServerResponse }[] = [];
  const answer = (i: number, response: ServerResponse): void => {
    state.inFlight -= 1;
    if (response.destroyed) return;
    state.answered += 1;
    if (state.failing(i)) response.writeHead(400, { 'content-type': 'text/plain' }).end(`item ${i} is malformed`);
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ i, doubled: i * 2 }));
  };
  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const { i } = JSON.parse(text) as { i: number };
      const key = request.headers['idempotency-key'];
      state.calls.push(i);
      state.keys.push(typeof key === 'string' ? key : undefined);
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      if (!state.answerNow(i)) held.push({ i, response });
      else setTimeout(() => answer(i, response), options.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: ItemServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: [],
    keys: [],
    inFlight: 0,
    maxInFlight: 0,
    answered: 0,
    answerNow: () => true,
    failing: () => false,
    release() {
      state.answerNow = () => true;
      for (const { i, response } of held.splice(0)) answer(i, response);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(state);
  return state;
}
