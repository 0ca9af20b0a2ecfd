// The run this editor last started, kept current by the engine's run change events.
import { useCallback, useState } from 'react';
import { useEngineEvent } from '../app/client-context.js';
import type { StartedRun } from './useDraftActions.js';

export function useLastRun(): [StartedRun | null, (run: StartedRun) => void] {
  const [lastRun, setLastRun] = useState<StartedRun | null>(null);
  useEngineEvent(
    'runsChanged',
    useCallback((data: { runs: { runId: string; status: string }[] }) => {
      setLastRun((run) => {
        const change = run && data.runs.find((entry) => entry.runId === run.runId);
        return change ? { ...run, status: change.status } : run;
      });
    }, []),
  );
  return [lastRun, setLastRun];
}
