// The run's journal as a list, one row per event, the current step marked. Virtualized by hand:
// rows have a fixed height, so only the rows in view (plus a few) exist in the DOM and a run of
// 100,000 events scrolls like one of 30. ↑/↓ in the list seek; ←/→ are the run view's.
import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { eventDetail, type JournalEvent } from '../../../engine/api/index.js';
import { Icon } from '../ui/Icon.js';
import { scrollToKeep, visibleRange } from '../ui/windowing.js';
import { useClientHeight } from '../ui/useClientHeight.js';
import { eventTone, formatOffset, indexAtSeq, type EventTone } from './timeline-window.js';
import './timeline.css';

export interface TimelineProps {
  events: readonly JournalEvent[];
  /** The current step: the seq of the event the run is shown after. */
  position: number;
  /** Node names by id, for rows about a node. */
  nodeNames: ReadonlyMap<string, string>;
  onSeek: (seq: number) => void;
}

/** Row height in px: the windowing's unit (timeline.css sets the same). */
export const TIMELINE_ROW_HEIGHT = 26;

const TONE_ICONS: Record<EventTone, string | null> = {
  failure: 'x-octagon',
  wait: 'clock',
  retry: 'history',
  decision: 'user-check',
  done: 'flag',
  plain: null,
};

export function Timeline({ events, position, nodeNames, onSeek }: TimelineProps) {
  const listRef = useRef<HTMLDivElement>(null);
  const current = indexAtSeq(events, position);
  const viewport = useClientHeight(listRef, 400);
  // The list's scroll position as rendered: it opens on the current row.
  const [scrollTop, setScrollTop] = useState(() =>
    current >= 0 ? scrollToKeep(current, 0, viewport, TIMELINE_ROW_HEIGHT) : 0,
  );
  const startAt = events[0]?.at ?? 0;
  // Rows are memoized; a stable seek keeps them so while the caller's callback changes.
  const seekRef = useRef(onSeek);
  useEffect(() => {
    seekRef.current = onSeek;
  }, [onSeek]);
  const seek = useCallback((seq: number) => seekRef.current(seq), []);

  // Keep the current step's row in view as it moves (seek, scrubber, live events): the scroll
  // position that does is worked out while rendering (from the position and height held, never
  // read from the DOM), so this render already draws the rows of that position.
  const [keptFor, setKeptFor] = useState({ current, viewport });
  if (keptFor.current !== current || keptFor.viewport !== viewport) {
    setKeptFor({ current, viewport });
    if (current >= 0) setScrollTop(scrollToKeep(current, scrollTop, viewport, TIMELINE_ROW_HEIGHT));
  }
  // …and given to the list at the next animation frame: setting scrollTop forces a layout, which
  // inside the commit is a second layout per step; in the frame it is the frame's own.
  // `scrollRef` is the list's actual scroll position as last written or seen.
  const scrollRef = useRef(0);
  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list || scrollRef.current === scrollTop) return;
    const frame = requestAnimationFrame(() => {
      list.scrollTop = scrollTop;
      scrollRef.current = scrollTop;
    });
    return () => cancelAnimationFrame(frame);
  }, [scrollTop]);

  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLDivElement>) => {
      if (events.length === 0) return;
      const page = Math.max(1, Math.floor(viewport / TIMELINE_ROW_HEIGHT) - 1);
      const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
      const move = moves[event.key];
      if (move === undefined) return;
      event.preventDefault();
      const index = Math.min(events.length - 1, Math.max(0, (current < 0 ? -1 : current) + move));
      const target = events[index];
      if (target) onSeek(target.seq);
    },
    [events, current, viewport, onSeek],
  );

  const range = visibleRange(scrollTop, viewport, TIMELINE_ROW_HEIGHT, events.length);
  const rows: JournalEvent[] = events.slice(range.start, range.end);
  const currentEvent = current >= 0 ? events[current] : undefined;
  return (
    <div
      ref={listRef}
      className="timeline"
      data-testid="timeline"
      role="listbox"
      aria-label={`Events (${events.length})`}
      tabIndex={0}
      aria-activedescendant={currentEvent ? `timeline-event-${currentEvent.seq}` : undefined}
      onScroll={(event) => {
        // The echo of a position already known (ours, written a frame ago) is no news: taking it
        // could undo a position rendered since and not yet written.
        const top = event.currentTarget.scrollTop;
        if (top === scrollRef.current) return;
        scrollRef.current = top;
        setScrollTop(top);
      }}
      onKeyDown={onKeyDown}
    >
      <div className="timeline-spacer" style={{ height: events.length * TIMELINE_ROW_HEIGHT }}>
        {rows.map((event, offset) => {
          const index = range.start + offset;
          return (
            <TimelineRow
              key={event.seq}
              event={event}
              top={index * TIMELINE_ROW_HEIGHT}
              state={index === current ? 'current' : index > current ? 'future' : 'past'}
              node={event.nodeId === null ? '' : (nodeNames.get(event.nodeId) ?? event.nodeId)}
              startAt={startAt}
              onSeek={seek}
            />
          );
        })}
      </div>
    </div>
  );
}

const TimelineRow = memo(function TimelineRow({
  event,
  top,
  state,
  node,
  startAt,
  onSeek,
}: {
  event: JournalEvent;
  top: number;
  state: 'past' | 'current' | 'future';
  node: string;
  startAt: number;
  onSeek: (seq: number) => void;
}) {
  const tone = eventTone(event.type);
  const icon = TONE_ICONS[tone];
  const detail = eventDetail(event);
  const isCurrent = state === 'current';
  return (
    <div
      id={`timeline-event-${event.seq}`}
      role="option"
      aria-selected={isCurrent}
      aria-current={isCurrent ? 'step' : undefined}
      data-seq={event.seq}
      className={`timeline-row tone-${tone}${state === 'past' ? '' : ` ${state}`}`}
      style={{ transform: `translateY(${top}px)` }}
      title={detail === '' ? undefined : detail}
      onClick={() => onSeek(event.seq)}
    >
      <span className="timeline-seq">#{event.seq}</span>
      <span className="timeline-time">{formatOffset(event.at - startAt)}</span>
      <span className="timeline-icon">{icon && <Icon name={icon} size={13} />}</span>
      <span className="timeline-type">
        {event.type}
        {event.attempt !== null && event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}
      </span>
      <span className="timeline-node">{node}</span>
      <span className="timeline-detail">{detail}</span>
    </div>
  );
});
