// The run's journal as a list, one row per event, the current step marked: filled in by the
// timeline work. Virtualized (a run may have 100,000 events).
import type { JournalEvent } from '../../../engine/api/index.js';

export interface TimelineProps {
  events: readonly JournalEvent[];
  /** The current step: the seq of the event the run is shown after. */
  position: number;
  /** Node names by id, for rows about a node. */
  nodeNames: ReadonlyMap<string, string>;
  onSeek: (seq: number) => void;
}

export function Timeline({ events, position, onSeek }: TimelineProps) {
  return (
    <ol className="timeline" data-testid="timeline">
      {events.slice(0, 200).map((event) => (
        <li key={event.seq} aria-current={event.seq === position ? 'step' : undefined}>
          <button type="button" onClick={() => onSeek(event.seq)}>
            #{event.seq} {event.type}
          </button>
        </li>
      ))}
    </ol>
  );
}
