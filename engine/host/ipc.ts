// Messages between the engine host and the process that started it (stepwise serve, Electron main).
import type { ServerFrame } from '../api/index.js';

export type HostToParent =
  | { type: 'ready'; pid: number }
  /** The host cannot start (e.g. the database is refused); restarting will not help. */
  | { type: 'fatal'; message: string }
  /** `client: null` is an event for every client. */
  | { type: 'frame'; client: number | null; frame: ServerFrame };

/** Desktop only, on Electron's parent port: main seals or unseals a value with safeStorage (keychain.ts). */
export interface SealRequest {
  type: 'seal-request';
  id: number;
  op: 'seal' | 'unseal';
  data: string;
}

/** Electron main's answer to a `seal-request`: `data` (base64 when sealed), or `error`. */
export interface SealResult {
  type: 'seal-result';
  id: number;
  data?: string;
  error?: string;
}

export type ParentToHost = { type: 'frame'; client: number; frame: unknown };
