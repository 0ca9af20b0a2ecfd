// Messages between the engine host and the process that started it (stepwise serve, Electron main).
import type { ServerFrame } from '../api/index.js';

export type HostToParent =
  | { type: 'ready'; pid: number }
  /** The host cannot start (e.g. the database is refused); restarting will not help. */
  | { type: 'fatal'; message: string }
  /** `client: null` is an event for every client. */
  | { type: 'frame'; client: number | null; frame: ServerFrame };

export type ParentToHost = { type: 'frame'; client: number; frame: unknown };
