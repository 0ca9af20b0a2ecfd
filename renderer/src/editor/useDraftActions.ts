// Saving the draft as a version and running it: both wait for the autosave first, so the engine
// versions what is on screen, and explain a refusal by the validator's first problem.
import { useCallback } from 'react';
import { ApiError } from '../../../engine/api/index.js';
import { useApi } from '../app/client-context.js';
import { errorText, useToast } from '../ui/toast.js';

export interface StartedRun {
  runId: string;
  status: string;
  version: number;
}

export function useDraftActions(options: {
  workflowId: string;
  flush: () => Promise<void>;
  onVersioned: () => void;
  onRunStarted: (run: StartedRun) => void;
  /** The draft was refused as invalid: its problems are worth showing. */
  onInvalid: () => void;
}): { saveVersion: (note: string) => Promise<void>; runDraft: () => Promise<void> } {
  const { workflowId, flush, onVersioned, onRunStarted, onInvalid } = options;
  const api = useApi();
  const toast = useToast();

  const refused = useCallback(
    (what: string, error: unknown) => {
      const invalid = error instanceof ApiError && error.code === 'invalid';
      toast(invalid ? `${what}: ${firstErrors(error)}` : errorText(error), 'error');
      if (invalid) onInvalid();
    },
    [onInvalid, toast],
  );

  const saveVersion = useCallback(
    async (note: string) => {
      try {
        await flush();
        const saved = await api.saveVersion({ workflowId, ...(note !== '' && { note }) });
        onVersioned();
        toast(
          saved.created ? `Saved version ${saved.version}` : `No changes since version ${saved.version}`,
          'success',
        );
      } catch (error) {
        refused('Cannot save a version', error);
      }
    },
    [api, flush, onVersioned, refused, toast, workflowId],
  );

  const runDraft = useCallback(async () => {
    try {
      await flush();
      const started = await api.runDraft({ workflowId });
      onVersioned();
      onRunStarted({ runId: started.run.runId, status: started.run.status, version: started.run.version });
      toast(
        `Run ${started.run.runId.slice(0, 8)} started on version ${started.run.version}${started.versionCreated ? ' (saved from the draft)' : ''}`,
        'success',
      );
    } catch (error) {
      refused('Cannot run', error);
    }
  }, [api, flush, onRunStarted, onVersioned, refused, toast, workflowId]);

  return { saveVersion, runDraft };
}

function firstErrors(error: ApiError): string {
  const errors = error.problems.filter((problem) => problem.severity === 'error');
  return errors.length === 0 ? error.message : `${errors.length} problem(s): ${errors[0]?.message ?? ''}`;
}
