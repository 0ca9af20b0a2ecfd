// Keeps one engine host child process alive for `stepwise serve`: forks it, relays client frames to
// it, and restarts it when it dies (a crash, a kill -9), telling clients 'restarting' meanwhile.
// Requests that were in flight when it died are answered 'unavailable' so that no client hangs.
import { fork, type ChildProcess } from 'node:child_process';
import type { RequestFrame, ServerFrame } from '../api/index.js';
import type { HostToParent, ParentToHost } from './ipc.js';

export type HostState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped';

export interface SupervisorOptions {
  entry: string;
  args: readonly string[];
  /** A frame for one client, or for every client when `client` is null. */
  onFrame(client: number | null, frame: ServerFrame): void;
  onState(state: HostState, detail?: string): void;
}

const MAX_BACKOFF_MS = 5000;

/** The first host could not start (a database it cannot open, or it died before it was ready). */
export class HostStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostStartError';
  }
}

export class HostSupervisor {
  readonly #options: SupervisorOptions;
  #child: ChildProcess | undefined;
  #state: HostState = 'starting';
  #pid: number | null = null;
  #restarts = 0;
  #backoffMs = 100;
  /** Requests sent to the current host and not yet answered: (client, request id). */
  readonly #inFlight = new Map<string, { client: number; id: number }>();
  #readyWaiters: { resolve(): void; reject(error: Error): void }[] = [];

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  get state(): HostState {
    return this.#state;
  }

  get pid(): number | null {
    return this.#pid;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** Resolves once the first host is ready; rejects when it cannot start at all. */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
    this.#spawn();
    return ready;
  }

  send(client: number, raw: unknown, request: Pick<RequestFrame, 'id'> | null): void {
    if (this.#state !== 'ready' || !this.#child?.connected) {
      if (request) this.#unavailable(client, request.id);
      return;
    }
    if (request) this.#inFlight.set(`${client}:${request.id}`, { client, id: request.id });
    const message: ParentToHost = { type: 'frame', client, frame: raw };
    this.#child.send(message);
  }

  async stop(): Promise<void> {
    this.#setState('stopped');
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  #spawn(): void {
    const child = fork(this.#options.entry, [...this.#options.args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.#child = child;
    // A send to a host that is exiting fails with an 'error' here; its 'exit' below restarts it.
    child.on('error', () => {});
    child.on('message', (message: HostToParent) => {
      if (message.type === 'ready') {
        this.#pid = message.pid;
        this.#backoffMs = 100;
        this.#setState('ready');
        for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve();
      } else if (message.type === 'fatal') {
        this.#fail(message.message);
      } else {
        const frame = message.frame;
        if (message.client !== null && frame.t === 'res') this.#inFlight.delete(`${message.client}:${frame.id}`);
        this.#options.onFrame(message.client, frame);
      }
    });
    child.on('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      this.#pid = null;
      for (const { client, id } of this.#inFlight.values()) this.#unavailable(client, id);
      this.#inFlight.clear();
      if (this.#state === 'stopped' || this.#state === 'failed') return;
      // The first host died before it was ready: a new one would too (restarting is for hosts that ran).
      if (this.#readyWaiters.length > 0) {
        this.#fail(`the engine host exited before it was ready (${signal ?? `code ${code}`})`);
        return;
      }
      this.#restarts += 1;
      this.#setState('restarting', `engine host exited (${signal ?? `code ${code}`}); restarting`);
      const delay = this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
      setTimeout(() => {
        if (this.#state === 'restarting') this.#spawn();
      }, delay).unref();
    });
  }

  /**
   * No more restarts. While `start` waits, its rejection carries the message (said once, by whoever
   * called it); a host that had been running reports it through `onState`.
   */
  #fail(message: string): void {
    const waiters = this.#readyWaiters.splice(0);
    this.#setState('failed', waiters.length > 0 ? undefined : message);
    for (const waiter of waiters) waiter.reject(new HostStartError(message));
  }

  #unavailable(client: number, id: number): void {
    this.#options.onFrame(client, {
      t: 'res',
      id,
      ok: false,
      error: { code: 'unavailable', message: 'the engine host is restarting; try again', problems: [] },
    });
  }

  #setState(state: HostState, detail?: string): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#options.onState(state, detail);
  }
}
