// A run as the run view needs it: its detail, its whole journal (read 5,000 events at a time) in a
// RunTimeline, and its pinned version. While the run is not finished, every `runsChanged` about it
// reads the events after the last one held and appends them: no reload, no re-read of the journal.
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  RunTimeline,
  type EngineApi,
  type EventData,
  type JournalEvent,
  type RunDetail,
  type Version,
} from '../../../../engine/api/index.js';
import { useApi, useEngineEvent, useOnReconnect } from '../../app/client-context.js';

const PAGE = 5000;

export interface RunJournal {
  run: RunDetail;
  version: Version;
  /** Every event read so far, in seq order; appended to in place while the run goes on. */
  events: readonly JournalEvent[];
  timeline: RunTimeline;
  /** Bumped on every append, so memos over `events` know it grew. */
  revision: number;
}

export type RunJournalState =
  { phase: 'loading' } | { phase: 'error'; message: string } | ({ phase: 'ready' } & RunJournal);

async function readEvents(api: EngineApi, runId: string, afterSeq: number, into: JournalEvent[]): Promise<void> {
  let after = afterSeq;
  for (;;) {
    const page = await api.getRunEvents({ runId, afterSeq: after, limit: PAGE });
    for (const event of page.events) into.push(event);
    const last = page.events.at(-1);
    if (!page.more || !last) return;
    after = last.seq;
  }
}

export function useRunJournal(runId: string): RunJournalState & { refresh: () => void } {
  const api = useApi();
  const [state, setState] = useState<RunJournalState>({ phase: 'loading' });
  // The live journal: mutated by appends (the RunTimeline reads the same array).
  const held = useRef<{ events: JournalEvent[]; timeline: RunTimeline } | null>(null);
  const syncing = useRef<Promise<void> | null>(null);
  const again = useRef(false);
  const syncRef = useRef<() => Promise<void>>(() => Promise.resolve());

  useEffect(() => {
    let cancelled = false;
    held.current = null;
    (async () => {
      const run = await api.getRun({ runId });
      const events: JournalEvent[] = [];
      const [version] = await Promise.all([
        api.getVersion({ workflowId: run.workflowId, version: run.version }),
        readEvents(api, runId, 0, events),
      ]);
      if (cancelled) return;
      held.current = { events, timeline: new RunTimeline(runId, events) };
      setState({ phase: 'ready', run, version, events, timeline: held.current.timeline, revision: 0 });
      // Pushes that came while loading were not applied: a live run reads once more.
      if (run.finishedAt === null) void syncRef.current();
    })().catch((error: unknown) => {
      if (!cancelled) setState({ phase: 'error', message: error instanceof Error ? error.message : String(error) });
    });
    return () => {
      cancelled = true;
    };
  }, [api, runId]);

  /** Reads what is new (events after the last held, and the run's row); one read at a time. */
  const sync = useCallback((): Promise<void> => {
    if (syncing.current) {
      again.current = true;
      return syncing.current;
    }
    const journal = held.current;
    if (!journal) return Promise.resolve();
    const work = (async () => {
      do {
        again.current = false;
        const fresh: JournalEvent[] = [];
        const [run] = await Promise.all([
          api.getRun({ runId }),
          readEvents(api, runId, journal.events.at(-1)?.seq ?? 0, fresh),
        ]);
        if (held.current !== journal) return;
        for (const event of fresh) journal.events.push(event);
        setState((previous) =>
          previous.phase === 'ready'
            ? { ...previous, run, events: journal.events, revision: previous.revision + 1 }
            : previous,
        );
      } while (again.current);
    })().finally(() => {
      syncing.current = null;
    });
    syncing.current = work;
    return work;
  }, [api, runId]);

  useEffect(() => {
    syncRef.current = sync;
  }, [sync]);

  const onRunsChanged = useCallback(
    (data: EventData<'runsChanged'>) => {
      const journal = held.current;
      if (!journal) return;
      const lastSeq = journal.events.at(-1)?.seq ?? 0;
      // Any commit about this run: new events, or a row change (a redrive, a cancel) worth re-reading.
      if (data.runs.some((change) => change.runId === runId && change.lastSeq >= lastSeq)) void sync();
    },
    [runId, sync],
  );
  useEngineEvent('runsChanged', onRunsChanged);

  const refresh = useCallback(() => void sync(), [sync]);
  // Changes committed while the connection was down were never pushed: read what is new.
  useOnReconnect(refresh);
  return { ...state, refresh };
}
