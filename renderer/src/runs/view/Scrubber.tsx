// The bar under the run header that moves through the journal: first / back / forward / last,
// previous and next failure or wait, a slider over every step, and where we are
// (`data-testid="step-position"`, containing the step's seq: the contract tests read it).
import { memo } from 'react';
import type { JournalEvent } from '../../../../engine/api/index.js';
import type { SeekKind } from './run-step.js';

export interface ScrubberProps {
  position: number;
  lastSeq: number;
  event: JournalEvent | undefined;
  nodeName: string | null;
  /** Seqs of the nearest failure / wait before and after the position (null: none). */
  seeks: Record<SeekKind, { previous: number | null; next: number | null }>;
  /** Events that arrived while the user looked at an earlier step. */
  unseen: number;
  onSeek: (seq: number) => void;
}

function ScrubberView({ position, lastSeq, event, nodeName, seeks, unseen, onSeek }: ScrubberProps) {
  const first = lastSeq > 0 ? 1 : 0;
  return (
    <div className="scrubber" role="toolbar" aria-label="Step through the run">
      <div className="scrubber-buttons">
        <button type="button" onClick={() => onSeek(first)} disabled={position <= first} aria-label="First step (Home)">
          «
        </button>
        <button
          type="button"
          onClick={() => onSeek(position - 1)}
          disabled={position <= first}
          aria-label="Previous step (←)"
        >
          ◀
        </button>
        <button
          type="button"
          onClick={() => onSeek(position + 1)}
          disabled={position >= lastSeq}
          aria-label="Next step (→)"
        >
          ▶
        </button>
        <button
          type="button"
          onClick={() => onSeek(lastSeq)}
          disabled={position >= lastSeq}
          aria-label="Last step (End)"
        >
          »
        </button>
      </div>
      <input
        type="range"
        className="scrubber-range"
        min={first}
        max={lastSeq}
        value={position}
        aria-label="Step"
        aria-valuetext={`Step ${position} of ${lastSeq}`}
        onChange={(change) => onSeek(Number(change.target.value))}
      />
      <span className="step-position" data-testid="step-position" aria-live="polite">
        Step {position} of {lastSeq}
        {event && (
          <>
            {' · '}
            <strong>{event.type}</strong>
            {nodeName && ` ${nodeName}`}
          </>
        )}
      </span>
      <div className="scrubber-seeks">
        <SeekButtons kind="failure" label="failure" seeks={seeks.failure} onSeek={onSeek} />
        <SeekButtons kind="wait" label="wait" seeks={seeks.wait} onSeek={onSeek} />
      </div>
      {unseen > 0 && (
        <button type="button" className="unseen" onClick={() => onSeek(lastSeq)} data-testid="new-events">
          {unseen} new event{unseen > 1 ? 's' : ''} — go to latest
        </button>
      )}
    </div>
  );
}

function SeekButtons({
  kind,
  label,
  seeks,
  onSeek,
}: {
  kind: SeekKind;
  label: string;
  seeks: { previous: number | null; next: number | null };
  onSeek: (seq: number) => void;
}) {
  return (
    <span className="seek-pair">
      <button
        type="button"
        disabled={seeks.previous === null}
        onClick={() => seeks.previous !== null && onSeek(seeks.previous)}
        data-testid={`previous-${kind}`}
      >
        ‹ Previous {label}
      </button>
      <button
        type="button"
        disabled={seeks.next === null}
        onClick={() => seeks.next !== null && onSeek(seeks.next)}
        data-testid={`next-${kind}`}
      >
        Next {label} ›
      </button>
    </span>
  );
}

export const Scrubber = memo(ScrubberView);
