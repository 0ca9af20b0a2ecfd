// A Store that forwards to a real one, with hooks to make an operation fail or wait: how tests
// reach the group commit's failure paths (a busy store, a write that breaks, an unreadable run).
import type { CommitBatch, CommitResult, Store } from '../../engine/store/index.js';

export interface Faults {
  /** Called before each commit; may throw (the commit fails) or wait (the commit waits). */
  commit?: (batch: CommitBatch) => void | Promise<void>;
  /** Called before each read of a run's events; may throw. */
  readEvents?: (runId: string, afterSeq: number) => void;
}

export function faultyStore(store: Store, faults: Faults): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'commit')
        return async (batch: CommitBatch): Promise<CommitResult> => {
          await faults.commit?.(batch);
          return target.commit(batch);
        };
      if (property === 'readEvents')
        return (runId: string, afterSeq: number, limit?: number) => {
          faults.readEvents?.(runId, afterSeq);
          return target.readEvents(runId, afterSeq, limit);
        };
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** An error like SQLite's when the file stays locked past the busy timeout. */
export function busyError(): Error {
  return Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
}
