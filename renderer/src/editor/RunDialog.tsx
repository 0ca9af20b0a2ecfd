// The Run dialog: the run's input as JSON (Monaco, checked as typed), the inputs remembered for
// this workflow, and plain words about the version the run will be pinned to. Ctrl/Cmd+Enter
// runs, in Monaco too. On success the caller navigates to the run.
import { lazy, Suspense, useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { DraftVersionInfo, StartedRun } from './useDraftActions.js';
import {
  clearInputHistory,
  initialInput,
  inputSummary,
  parseInput,
  readInputHistory,
  rememberInput,
  versionNote,
} from './run-inputs.js';
import { PlaybackOption } from '../ui/PlaybackOption.js';
import './run-dialog.css';

const RunInputEditor = lazy(() => import('./RunInputEditor.js'));

type Info = { state: 'loading' } | { state: 'ready'; info: DraftVersionInfo } | { state: 'unknown'; error: string };

export function RunDialog(props: {
  workflowId: string;
  /** The trigger's example input: the first default when nothing was run yet. */
  sampleInput?: unknown;
  /** Validation errors in the draft: it cannot run while there are any. */
  errors: number;
  /** Saves what is on screen and says which version a run would be pinned to. */
  describeDraft: () => Promise<DraftVersionInfo>;
  /** Starts the run (`playback`: recorded model answers); rejects with a message for people. */
  run: (input: unknown, options: { playback: boolean }) => Promise<StartedRun>;
  onStarted: (run: StartedRun) => void;
  onClose: () => void;
}) {
  const { workflowId, sampleInput, errors, describeDraft, run, onStarted, onClose } = props;
  const [history, setHistory] = useState(() => readInputHistory(localStorage, workflowId));
  const [text, setText] = useState(() => initialInput(localStorage, workflowId, sampleInput));
  const [generation, setGeneration] = useState(0);
  const [info, setInfo] = useState<Info>({ state: 'loading' });
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [playback, setPlayback] = useState(false);
  // Ctrl+Enter can reach both Monaco's command and the dialog's handler: start one run only.
  const submitting = useRef(false);
  const parsed = parseInput(text);

  useEffect(() => {
    let cancelled = false;
    describeDraft().then(
      (found) => !cancelled && setInfo({ state: 'ready', info: found }),
      (error: unknown) =>
        !cancelled && setInfo({ state: 'unknown', error: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      cancelled = true;
    };
  }, [describeDraft]);

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key === 'Escape' && !busy) onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [busy, onClose]);

  const blocked = busy || !parsed.ok || errors > 0 || info.state === 'loading';
  const submit = useCallback(async () => {
    if (blocked || !parsed.ok || submitting.current) return;
    submitting.current = true;
    setBusy(true);
    setFailure(null);
    try {
      const started = await run(parsed.value, { playback });
      setHistory(rememberInput(localStorage, workflowId, parsed.value));
      onStarted(started);
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
      submitting.current = false;
      setBusy(false);
    }
  }, [blocked, onStarted, parsed, playback, run, workflowId]);

  const pick = (entry: string) => {
    setText(entry);
    setGeneration((current) => current + 1);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={() => !busy && onClose()}>
      <div
        className="modal run-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="run-dialog-title"
        data-testid="run-dialog"
        onMouseDown={(event) => event.stopPropagation()}
        onKeyDown={onKeyDown}
      >
        <h2 id="run-dialog-title">Run with an input</h2>
        <div className="run-dialog-history">
          <label>
            <span>Recent inputs</span>
            <select
              data-testid="run-input-history"
              value=""
              disabled={history.length === 0}
              onChange={(event) => {
                const entry = history[Number(event.target.value)];
                if (entry !== undefined) pick(entry);
              }}
            >
              <option value="" disabled>
                {history.length === 0 ? 'None yet' : `Pick one of ${history.length}…`}
              </option>
              {history.map((entry, index) => (
                <option key={entry} value={index}>
                  {inputSummary(entry)}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            disabled={history.length === 0}
            onClick={() => {
              clearInputHistory(localStorage, workflowId);
              setHistory([]);
            }}
          >
            Clear history
          </button>
        </div>
        <Suspense fallback={<div className="monaco-loading run-input-loading">Loading editor…</div>}>
          <RunInputEditor
            key={generation}
            generation={generation}
            workflowId={workflowId}
            defaultValue={text}
            onChange={setText}
            onSubmit={() => void submit()}
          />
        </Suspense>
        <p
          className={parsed.ok ? 'run-dialog-check ok' : 'run-dialog-check error'}
          data-testid="run-input-error"
          role="status"
        >
          {parsed.ok ? 'Valid JSON' : `Line ${parsed.line}, column ${parsed.column}: ${parsed.message}`}
        </p>
        {errors > 0 && (
          <p className="run-dialog-problems" data-testid="run-draft-problems">
            The draft has {errors} problem{errors === 1 ? '' : 's'}: fix {errors === 1 ? 'it' : 'them'} before running.
          </p>
        )}
        <p className="run-dialog-version" data-testid="run-version-note">
          {info.state === 'loading'
            ? 'Saving the draft…'
            : info.state === 'ready'
              ? versionNote(info.info)
              : `Could not check the draft's version: ${info.error}`}
        </p>
        <PlaybackOption
          testId="run-playback"
          className="run-dialog-playback"
          title="LLM nodes answer a request they answered before from its record, without calling (or paying) the provider"
          checked={playback}
          onChange={setPlayback}
        />
        {failure !== null && (
          <p className="run-dialog-failure" role="alert" data-testid="run-failure">
            {failure}
          </p>
        )}
        <div className="modal-actions">
          <span className="run-dialog-hint">Ctrl/⌘ Enter runs</span>
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={blocked} onClick={() => void submit()}>
            {busy ? 'Starting…' : 'Run'}
          </button>
        </div>
      </div>
    </div>
  );
}
