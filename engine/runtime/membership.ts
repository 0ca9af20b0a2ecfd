// A worker's membership in the store: a generated id, a heartbeat every second that also renews
// the lease of each activation it executes, and the expiry of workers that went silent (their
// leases are freed so others take the work over). In production the heartbeat runs on its own
// thread with its own store connection, so user code blocking the engine thread cannot stop it;
// past an activation's start-to-close limit it stops renewing that lease.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { Logger } from '../sdk/index.js';
import type { LeaseRenewal, Store, StoreLocation, WorkerRecord } from '../store/index.js';
import type { Clock } from './clock.js';

export const HEARTBEAT_MS = 1000;

/** A lease the store says this worker no longer holds, at that attempt. */
export interface LostLease {
  runId: string;
  activationId: string;
  attempt: number;
}
/** Expire silent workers every this many heartbeats. */
const EXPIRY_EVERY = 5;

export type HeartbeatMode = 'thread' | 'inline';

/** What the heartbeat may renew: an activation and when its start-to-close limit passes. */
export interface LeaseDeadline {
  runId: string;
  activationId: string;
  attempt: number;
  deadline: number;
}

export interface MembershipOptions {
  workerId: string;
  leaseMs: number;
  mode: HeartbeatMode;
  /** The activations this worker executes now. */
  leases: () => LeaseDeadline[];
  /** Leases the store says this worker no longer holds (another took the work over). */
  onLost: (lost: LostLease[]) => void;
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
  #lastPosted = '';

  constructor(store: Store, clock: Clock, options: MembershipOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#options = options;
    const now = clock.now();
    this.#record = { id: options.workerId, host: hostname(), pid: process.pid, startedAt: now, heartbeatAt: now };
  }

  async start(): Promise<void> {
    await this.#store.registerWorker(this.#record);
    await this.#expire(this.#clock.now());
    if (this.#options.mode === 'thread') this.#startThread();
    this.#scheduleTick();
  }

  async stop(): Promise<void> {
    this.#cancelTick?.();
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

  /** On the engine thread: inline, the heartbeat itself; with a thread, the lease list it renews. */
  async #tick(): Promise<void> {
    const now = this.#clock.now();
    if (this.#thread) {
      const leases = this.#options.leases();
      const text = JSON.stringify(leases);
      if (text !== this.#lastPosted) this.#thread.postMessage({ type: 'leases', leases });
      this.#lastPosted = text;
      return;
    }
    try {
      const renewals = renewable(this.#options.leases(), now, this.#options.leaseMs);
      const { lost } = await this.#store.heartbeat({ ...this.#record, heartbeatAt: now }, now, renewals);
      if (lost.length > 0) this.#options.onLost(lost);
      this.#ticks += 1;
      if (this.#ticks % EXPIRY_EVERY === 0) await this.#expire(now);
    } catch (error) {
      this.#options.logger.warn('heartbeat failed', { error: String(error) });
    }
  }

  async #expire(now: number): Promise<void> {
    for (const { workerId, released } of await this.#store.expireWorkers(now - this.#options.leaseMs))
      if (released > 0) this.#options.logger.info('took over the work of a silent worker', { workerId, released });
  }

  #startThread(): void {
    const data: HeartbeatThreadData = {
      location: this.#store.location,
      worker: this.#record,
      leaseMs: this.#options.leaseMs,
      heartbeatMs: HEARTBEAT_MS,
      expiryEvery: EXPIRY_EVERY,
    };
    const thread = new Thread(HEARTBEAT_THREAD, { workerData: data });
    thread.unref();
    thread.on('message', (message: HeartbeatThreadMessage) => {
      if (message.type === 'lost') this.#options.onLost(message.lost);
      else this.#options.logger.warn(message.message, message.fields);
    });
    thread.on('error', (error) => this.#options.logger.error('heartbeat thread failed', { error: String(error) }));
    this.#thread = thread;
  }
}

/** Leases still within their start-to-close limit, renewed until `now + leaseMs`. */
export function renewable(leases: readonly LeaseDeadline[], now: number, leaseMs: number): LeaseRenewal[] {
  return leases
    .filter((lease) => now < lease.deadline)
    .map(({ runId, activationId, attempt }) => ({ runId, activationId, attempt, leaseUntil: now + leaseMs }));
}

export interface HeartbeatThreadData {
  location: StoreLocation;
  worker: WorkerRecord;
  leaseMs: number;
  heartbeatMs: number;
  expiryEvery: number;
}

export type HeartbeatThreadMessage =
  { type: 'lost'; lost: LostLease[] } | { type: 'log'; message: string; fields: Record<string, unknown> };

/** The compiled thread entry. Under a TypeScript test runner (no build) it does not exist. */
const HEARTBEAT_THREAD = fileURLToPath(new URL('./heartbeat-thread.js', import.meta.url));

/** 'thread' where the compiled heartbeat thread exists, else 'inline'. */
export function defaultHeartbeatMode(): HeartbeatMode {
  return existsSync(HEARTBEAT_THREAD) ? 'thread' : 'inline';
}
