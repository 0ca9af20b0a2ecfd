// The heartbeat thread (see membership.ts): its own store connection and event loop, so a busy
// engine thread cannot stop a worker's heartbeat or the renewal of its leases.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import { errorText } from './errors.js';
import { beat, type HeartbeatThreadData, type HeartbeatThreadMessage } from './membership.js';

const data = workerData as HeartbeatThreadData;
const store = openStore(data.location);
let ticks = 0;

setInterval(() => {
  ticks += 1;
  beat(store, data.worker, Date.now(), data.leaseMs, ticks).catch((error: unknown) => {
    const message: HeartbeatThreadMessage = {
      type: 'log',
      message: 'heartbeat failed',
      fields: { error: errorText(error) },
    };
    parentPort?.postMessage(message);
  });
}, data.heartbeatMs);
