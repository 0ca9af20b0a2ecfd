// Saving the draft as a version and running it (with an input): both wait for the autosave first, so the engine
// versions what is on screen, and explain a refusal by the validator's first problem.
import { useCallback } from 'react';
import { ApiError } from '../../../engine/api/index.js';
import { useApi } from '../app/client-context.js';
import { useApprover } from '../approvals/decider.js';
import { errorText, useToast } from '../ui/toast.js';
import type { DraftVersionInfo } from './run-inputs.js';

export type { DraftVersionInfo } from './run-inputs.js';

export interface StartedRun {
  runId: string;
  status: string;
  version: number;
}

export function useDraftActions(options: {
  workflowId: string;
  flush: () => Promise<void>;
  onVersioned: () => void;
  /** The draft was refused as invalid: its problems are worth showing. */
  onInvalid: () => void;
}): {
  saveVersion: (note: string) => Promise<void>;
  runDraft: (input: unknown, options?: { playback: boolean }) => Promise<StartedRun>;
  describeDraft: () => Promise<DraftVersionInfo>;
} {
  const { workflowId, flush, onVersioned, onInvalid } = options;
  const api = useApi();
  const toast = useToast();
  // Who starts the run, by the name they decide approvals under: an approval that excludes the
  // starter then refuses them.
  const { name: starter } = useApprover();

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

  const describeDraft = useCallback(async (): Promise<DraftVersionInfo> => {
    await flush();
    const detail = await api.getWorkflow({ workflowId });
    return {
      latestVersion: detail.latestVersion,
      draftChanged: detail.draftChanged,
      draftVersion: detail.draftVersion,
    };
  }, [api, flush, workflowId]);

  const runDraft = useCallback(
    async (input: unknown, options?: { playback: boolean }): Promise<StartedRun> => {
      try {
        await flush();
        const started = await api.runDraft({
          workflowId,
          input,
          by: starter,
          ...(options?.playback === true && { playback: true }),
        });
        onVersioned();
        const run = { runId: started.run.runId, status: started.run.status, version: started.run.version };
        toast(
          `Run ${run.runId.slice(0, 8)} started on version ${run.version}${started.versionCreated ? ' (saved from the draft)' : ''}`,
          'success',
        );
        return run;
      } catch (error) {
        // The dialog shows why; an invalid draft also opens the problems.
        const invalid = error instanceof ApiError && error.code === 'invalid';
        if (invalid) onInvalid();
        throw new Error(invalid ? `Cannot run: ${firstErrors(error)}` : errorText(error), { cause: error });
      }
    },
    [api, flush, onInvalid, onVersioned, starter, toast, workflowId],
  );

  return { saveVersion, runDraft, describeDraft };
}

function firstErrors(error: ApiError): string {
  const errors = error.problems.filter((problem) => problem.severity === 'error');
  return errors.length === 0 ? error.message : `${errors.length} problem(s): ${errors[0]?.message ?? ''}`;
}
