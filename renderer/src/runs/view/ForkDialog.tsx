// "Fork from step k": a new run inheriting the journal up to k, on the same version, the latest
// or a chosen one, optionally with edited outputs (Monaco, JSON-validated) for nodes completed by
// k. The engine's refusals (e.g. the latest version lacks inherited nodes: it names them) are shown
// in the dialog; on success the view moves to the new run.
import { useEffect, useState } from 'react';
import type { RunDetail, VersionSummary } from '../../../../engine/api/index.js';
import { useApi } from '../../app/client-context.js';
import { navigate, runHref } from '../../app/routes.js';
import { MonacoText } from '../../editor/inspector/MonacoText.js';
import { Modal } from '../../ui/Modal.js';
import { errorText } from '../../ui/toast.js';
import { PlaybackOption } from '../../ui/PlaybackOption.js';

export interface ForkableNode {
  id: string;
  name: string;
  output: unknown;
}

type On = 'same' | 'latest' | 'version';

function parse(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: errorText(error) };
  }
}

export function ForkDialog({
  run,
  position,
  completed,
  onClose,
}: {
  run: RunDetail;
  position: number;
  /** Nodes completed by the step: the ones whose output may be edited. */
  completed: readonly ForkableNode[];
  onClose: () => void;
}) {
  const api = useApi();
  const [on, setOn] = useState<On>('same');
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [chosen, setChosen] = useState<number>(run.version);
  const [editing, setEditing] = useState<string>('');
  // Edited outputs as typed, by node id; only valid JSON is sent.
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [playback, setPlayback] = useState(false);

  useEffect(() => {
    api.listVersions({ workflowId: run.workflowId }).then(setVersions, () => setVersions([]));
  }, [api, run.workflowId]);

  const invalid = Object.entries(edits).flatMap(([nodeId, text]) => {
    const parsed = parse(text);
    return parsed.ok ? [] : [`${nodeId}: ${parsed.message}`];
  });

  const submit = async () => {
    if (invalid.length > 0) return;
    setBusy(true);
    setRefusal(null);
    try {
      // Only outputs the user changed: an output opened and left as it was is no edit.
      const setOutput = Object.fromEntries(
        Object.entries(edits).flatMap(([nodeId, text]) => {
          const value = JSON.parse(text) as unknown;
          const original = completed.find((node) => node.id === nodeId)?.output;
          return JSON.stringify(value) === JSON.stringify(original) ? [] : [[nodeId, value]];
        }),
      );
      const fork = await api.forkRun({
        runId: run.runId,
        seq: position,
        on: on === 'version' ? chosen : on,
        ...(Object.keys(setOutput).length > 0 && { setOutput }),
        ...(playback && { playback: true }),
      });
      onClose();
      navigate(runHref(fork.runId));
    } catch (error) {
      setRefusal(errorText(error));
      setBusy(false);
    }
  };

  const editingNode = completed.find((node) => node.id === editing);
  return (
    <Modal title={`Fork from step ${position}`} onClose={onClose}>
      <form
        className="fork-dialog"
        data-testid="fork-dialog"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <p className="muted">
          A new run inherits what completed by step {position} (not executed again) and continues from there.
        </p>
        <fieldset className="fork-on">
          <legend>Run it on</legend>
          <label>
            <input type="radio" name="fork-on" checked={on === 'same'} onChange={() => setOn('same')} /> the same
            version (v{run.version})
          </label>
          <label>
            <input type="radio" name="fork-on" checked={on === 'latest'} onChange={() => setOn('latest')} /> the latest
            version (v{run.latestVersion})
          </label>
          <label>
            <input type="radio" name="fork-on" checked={on === 'version'} onChange={() => setOn('version')} /> version{' '}
            <select
              aria-label="Version to fork on"
              value={chosen}
              onChange={(change) => {
                setChosen(Number(change.target.value));
                setOn('version');
              }}
            >
              {versions.map((version) => (
                <option key={version.version} value={version.version}>
                  v{version.version}
                  {version.note ? ` — ${version.note}` : ''}
                </option>
              ))}
            </select>
          </label>
        </fieldset>
        <PlaybackOption
          testId="fork-playback"
          className="fork-playback"
          title="LLM nodes that run again answer a request they answered before from its record, without calling (or paying) the provider"
          checked={playback}
          onChange={setPlayback}
        />
        <fieldset>
          <legend>Edit an output (optional)</legend>
          {completed.length === 0 ? (
            <p className="muted">No node has completed by step {position}.</p>
          ) : (
            <label className="field">
              <span>Node completed by step {position}</span>
              <select
                aria-label="Node whose output to edit"
                data-testid="fork-edit-node"
                value={editing}
                onChange={(change) => {
                  const id = change.target.value;
                  setEditing(id);
                  const node = completed.find((candidate) => candidate.id === id);
                  if (node && edits[id] === undefined)
                    setEdits({ ...edits, [id]: JSON.stringify(node.output, null, 2) });
                }}
              >
                <option value="">— none —</option>
                {completed.map((node) => (
                  <option key={node.id} value={node.id}>
                    {node.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          {editingNode && (
            <MonacoText
              id={`fork-output-${editingNode.id}`}
              text={edits[editingNode.id] ?? JSON.stringify(editingNode.output, null, 2)}
              language="json"
              height={180}
              ariaLabel={`Output of ${editingNode.name}`}
              onText={(text) => {
                setEdits((previous) => ({ ...previous, [editingNode.id]: text }));
                return text;
              }}
            />
          )}
          {Object.keys(edits).length > 0 && (
            <ul className="fork-edits">
              {Object.keys(edits).map((nodeId) => (
                <li key={nodeId}>
                  output of <strong>{nodeId}</strong> replaced{' '}
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      const rest = { ...edits };
                      delete rest[nodeId];
                      setEdits(rest);
                      if (editing === nodeId) setEditing('');
                    }}
                  >
                    keep the original
                  </button>
                </li>
              ))}
            </ul>
          )}
          {invalid.length > 0 && (
            <ul className="field-errors" data-testid="fork-invalid">
              {invalid.map((problem) => (
                <li key={problem}>Not JSON — {problem}</li>
              ))}
            </ul>
          )}
        </fieldset>
        {refusal && (
          <p className="fork-refusal" role="alert" data-testid="fork-refusal">
            {refusal}
          </p>
        )}
        <div className="modal-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || invalid.length > 0}>
            Fork
          </button>
        </div>
      </form>
    </Modal>
  );
}
