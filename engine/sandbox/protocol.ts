// The messages between the sandbox pool (engine thread) and a sandbox thread. Everything crosses as
// plain data: the input and the result as JSON text, a failure as its kind and message.
import type { ConsoleLine, SandboxRequest } from '../sdk/index.js';

/** A request as the thread gets it: no AbortSignal (the pool handles cancellation). */
export interface ThreadRequest extends Omit<SandboxRequest, 'input' | 'signal' | 'onConsole'> {
  inputJson: string;
}

/** Every sandbox failure is the code's own doing, so none is retried. */
export interface ThreadFailure {
  kind: string;
  message: string;
  details?: unknown;
}

export type ThreadOutcome = { ok: true; json: string | null } | { ok: false; error: ThreadFailure };

/** What a thread is started with. */
export interface ThreadData {
  /** One Int32 (a SharedArrayBuffer): the id of a job handed to the thread that must not start. */
  cancelled: SharedArrayBuffer;
}

export interface ThreadJob {
  id: number;
  request: ThreadRequest;
  /** Run in an environment no activation has used (a retry of one that ran out of memory). */
  fresh?: boolean;
}

export type ThreadMessage =
  /** Sent only after loading a WebAssembly instance: the code starts now, time it from here. */
  | { id: number; started: true }
  /** Not run: cancelled while it waited in the thread (ThreadData.cancelled). */
  | { id: number; skipped: true }
  /** `retire`: the thread's memory grew past what an idle thread may keep, or QuickJS failed; replace it. */
  | { id: number; outcome: ThreadOutcome; retire: boolean; reused: boolean; console?: CapturedConsole };

/** What the code printed (`dropped`: lines past the cap). */
export interface CapturedConsole {
  lines: ConsoleLine[];
  dropped: number;
}
