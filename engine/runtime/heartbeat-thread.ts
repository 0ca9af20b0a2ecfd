// The heartbeat thread (see membership.ts): its own store connection and event loop, so a busy
// engine thread cannot stop a worker's heartbeat or the renewal of its leases.
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../sdk/index.js';
import { openStore } from '../store/index.js';
import { errorText } from './errors.js';
import { beat, type HeartbeatThreadData, type HeartbeatThreadMessage } from './membership.js';

const data = workerData as HeartbeatThreadData;
const store = openStore(data.location);
const post =
  (level: keyof Logger) =>
  (message: string, fields: Record<string, unknown> = {}): void => {
    const frame: HeartbeatThreadMessage = { level, message, fields };
    parentPort?.postMessage(frame);
  };
const logger: Logger = { info: post('info'), warn: post('warn'), error: post('error') };
let ticks = 0;

setInterval(() => {
  ticks += 1;
  beat(store, data.worker, Date.now(), ticks, logger).catch((error: unknown) =>
    logger.warn('heartbeat failed', { error: errorText(error) }),
  );
}, data.heartbeatMs);
