// A worker's membership in the store: a generated id and a heartbeat every second that renews
// every lease the worker holds — each while its start-to-close deadline is ahead — and expires
// workers that went silent for longer than their lease (their leases are freed, so others take
// the work over; a worker on this host whose process is gone is expired at once). In production
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
/** A lease must outlast a few heartbeats, or live workers would expire each other. */
export const MIN_LEASE_MS = 3 * HEARTBEAT_MS;

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
    this.#record = {
      id: options.workerId,
      host: hostname(),
      pid: process.pid,
      startedAt: now,
      heartbeatAt: now,
      leaseMs: options.leaseMs,
    };
  }

  async start(): Promise<void> {
    await this.#store.registerWorker(this.#record);
    await expireSilent(this.#store, this.#clock.now(), this.#options.logger);
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
      if (!this.#thread) await beat(this.#store, this.#record, now, (this.#ticks += 1), this.#options.logger);
      const executing = this.#options.executing();
      if (executing.length === 0) return;
      const held = new Set((await this.#store.leasesOf(this.#options.workerId)).map(leaseKey));
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
      heartbeatMs: HEARTBEAT_MS,
    };
    const thread = new Thread(HEARTBEAT_THREAD, { workerData: data });
    thread.unref();
    thread.on('message', (message: HeartbeatThreadMessage) =>
      this.#options.logger[message.level](message.message, message.fields),
    );
    // Should the thread die, the engine thread beats instead: a worker must never fall silent.
    const fallBack = (reason: string): void => {
      if (this.#thread !== thread) return;
      this.#thread = undefined;
      this.#options.logger.error('the heartbeat thread stopped; beating on the engine thread', { reason });
    };
    thread.on('error', (error) => fallBack(errorText(error)));
    thread.on('exit', (code) => fallBack(`exit ${code}`));
    this.#thread = thread;
  }
}

/** One heartbeat: renew this worker's leases (each while its deadline is ahead); now and then expire silent workers. */
export async function beat(
  store: Store,
  worker: WorkerRecord,
  now: number,
  tick: number,
  logger: Logger,
): Promise<void> {
  await store.heartbeat(worker, now);
  if (tick % EXPIRY_EVERY === 0) await expireSilent(store, now, logger);
}

/** Workers silent for longer than their lease, and workers on this host whose process is gone. */
async function expireSilent(store: Store, now: number, logger: Logger): Promise<void> {
  const expired = await store.expireWorkers(now);
  const host = hostname();
  for (const worker of await store.workers())
    if (worker.host === host && worker.pid !== process.pid && !processAlive(worker.pid))
      expired.push({ workerId: worker.id, released: await store.removeWorker(worker.id) });
  for (const { workerId, released } of expired)
    if (released > 0) logger.info('took over the work of a stopped worker', { workerId, released });
}

/** A hint only (a pid may be reused): a live process keeps its worker until its heartbeat stops. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function leaseKey(lease: LeaseKey): string {
  return `${lease.runId}\0${lease.activationId}\0${lease.attempt}`;
}

export interface HeartbeatThreadData {
  location: StoreLocation;
  worker: WorkerRecord;
  heartbeatMs: number;
}

export interface HeartbeatThreadMessage {
  level: keyof Logger;
  message: string;
  fields: Record<string, unknown>;
}

/** The compiled thread entry. Under a TypeScript test runner (no build) it does not exist. */
const HEARTBEAT_THREAD = fileURLToPath(new URL('./heartbeat-thread.js', import.meta.url));

/** 'thread' where the compiled heartbeat thread exists, else 'inline'. */
export function defaultHeartbeatMode(): HeartbeatMode {
  return existsSync(HEARTBEAT_THREAD) ? 'thread' : 'inline';
}
