// The heartbeat thread (see membership.ts): its own store connection, its own event loop, so a
// busy engine thread cannot stop a worker's heartbeat or the renewal of its leases.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import { renewable, type HeartbeatThreadData, type HeartbeatThreadMessage, type LeaseDeadline } from './membership.js';

const data = workerData as HeartbeatThreadData;
const store = openStore(data.location);
let leases: LeaseDeadline[] = [];
let ticks = 0;

const post = (message: HeartbeatThreadMessage): void => parentPort?.postMessage(message);

parentPort?.on('message', (message: { type: 'leases'; leases: LeaseDeadline[] }) => {
  if (message.type === 'leases') leases = message.leases;
});

async function beat(): Promise<void> {
  const now = Date.now();
  try {
    const { lost } = await store.heartbeat(
      { ...data.worker, heartbeatAt: now },
      now,
      renewable(leases, now, data.leaseMs),
    );
    if (lost.length > 0) post({ type: 'lost', lost });
    ticks += 1;
    if (ticks % data.expiryEvery === 0) await store.expireWorkers(now - data.leaseMs);
  } catch (error) {
    post({ type: 'log', message: 'heartbeat failed', fields: { error: String(error) } });
  }
}

setInterval(() => void beat(), data.heartbeatMs);
