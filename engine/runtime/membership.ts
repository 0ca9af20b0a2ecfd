// A worker's membership in the store: a generated id and a heartbeat every second that renews
// every lease the worker holds — each only until its start-to-close deadline — and expires
// workers that went silent (their leases are freed, so others take the work over). In production
// the heartbeat runs on its own thread with its own store connection: user code that blocks the
// engine thread cannot stop it. The engine thread checks each second which leases it still holds.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { Logger } from '../sdk/index.js';
import type { Store, StoreLocation, WorkerRecord } from '../store/index.js';
import type { Clock } from './clock.js';
import { errorText } from './errors.js';

export const HEARTBEAT_MS = 1000;
/** Expire silent workers every this many heartbeats. */
export const EXPIRY_EVERY = 5;

export type HeartbeatMode = 'thread' | 'inline';

/** One attempt of an activation, as a lease names it. */
export interface LeaseKey {
  runId: string;
  activationId: string;
  attempt: number;
}

export interface MembershipOptions {
  workerId: string;
  leaseMs: number;
  mode: HeartbeatMode;
  /** What this worker executes now. */
  executing: () => LeaseKey[];
  /** Executions whose lease another worker took over (after it expired). */
  onLost: (lost: LeaseKey[]) => void;
  logger: Logger;
}

export class Membership {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #options: MembershipOptions;
  readonly #record: WorkerRecord;
  #thread: Thread | undefined;
  #cancelTick: (() => void) | undefined;
  #ticks = 0;

  constructor(store: Store, clock: Clock, options: MembershipOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#options = options;
    const now = clock.now();
    this.#record = { id: options.workerId, host: hostname(), pid: process.pid, startedAt: now, heartbeatAt: now };
  }

  async start(): Promise<void> {
    await this.#store.registerWorker(this.#record);
    await this.#store.expireWorkers(this.#clock.now() - this.#options.leaseMs);
    if (this.#options.mode === 'thread') this.#startThread();
    this.#scheduleTick();
  }

  async stop(): Promise<void> {
    this.#cancelTick?.();
    this.#cancelTick = undefined;
    const thread = this.#thread;
    this.#thread = undefined;
    if (thread) await thread.terminate();
    await this.#store.removeWorker(this.#options.workerId);
  }

  #scheduleTick(): void {
    this.#cancelTick = this.#clock.after(HEARTBEAT_MS, () => {
      void this.#tick().finally(() => {
        if (this.#cancelTick) this.#scheduleTick();
      });
    });
  }

  async #tick(): Promise<void> {
    const now = this.#clock.now();
    try {
      if (!this.#thread) {
        await beat(this.#store, this.#record, now, this.#options.leaseMs, (this.#ticks += 1));
      }
      const executing = this.#options.executing();
      if (executing.length === 0) return;
      const held = new Set((await this.#store.leasesOf(this.#options.workerId)).map((lease) => leaseKey(lease)));
      const lost = executing.filter((lease) => !held.has(leaseKey(lease)));
      if (lost.length > 0) this.#options.onLost(lost);
    } catch (error) {
      this.#options.logger.warn('heartbeat failed', { error: errorText(error) });
    }
  }

  #startThread(): void {
    const data: HeartbeatThreadData = {
      location: this.#store.location,
      worker: this.#record,
      leaseMs: this.#options.leaseMs,
      heartbeatMs: HEARTBEAT_MS,
    };
    const thread = new Thread(HEARTBEAT_THREAD, { workerData: data });
    thread.unref();
    thread.on('message', (message: HeartbeatThreadMessage) =>
      this.#options.logger.warn(message.message, message.fields),
    );
    thread.on('error', (error) => this.#options.logger.error('heartbeat thread failed', { error: errorText(error) }));
    this.#thread = thread;
  }
}

/** One heartbeat: renew this worker's leases (each until its deadline), now and then expire silent workers. */
export async function beat(
  store: Store,
  worker: WorkerRecord,
  now: number,
  leaseMs: number,
  tick: number,
): Promise<void> {
  await store.heartbeat({ ...worker, heartbeatAt: now }, now, leaseMs);
  if (tick % EXPIRY_EVERY === 0) await store.expireWorkers(now - leaseMs);
}

function leaseKey(lease: LeaseKey): string {
  return `${lease.runId}\0${lease.activationId}\0${lease.attempt}`;
}

export interface HeartbeatThreadData {
  location: StoreLocation;
  worker: WorkerRecord;
  leaseMs: number;
  heartbeatMs: number;
}

export interface HeartbeatThreadMessage {
  type: 'log';
  message: string;
  fields: Record<string, unknown>;
}

/** The compiled thread entry. Under a TypeScript test runner (no build) it does not exist. */
const HEARTBEAT_THREAD = fileURLToPath(new URL('./heartbeat-thread.js', import.meta.url));

/** 'thread' where the compiled heartbeat thread exists, else 'inline'. */
export function defaultHeartbeatMode(): HeartbeatMode {
  return existsSync(HEARTBEAT_THREAD) ? 'thread' : 'inline';
}
