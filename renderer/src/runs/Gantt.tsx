// Activations and their attempts on a time axis: one lane per activation, a bar per attempt,
// failed attempts red (the error on hover), retry delays dashed, waits hatched. The geometry is
// pure (gantt-geometry.ts); lanes are windowed like the timeline's rows (a loop may create
// thousands of activations).
import { useMemo, useRef, useState } from 'react';
import type { ActivationState } from '../../../engine/api/index.js';
import { ganttGeometry, shortDuration, type Lane, type Segment } from './gantt-geometry.js';
import { visibleRange } from '../ui/windowing.js';
import { useClientHeight } from '../ui/useClientHeight.js';
import './timeline.css';

export interface GanttProps {
  /** The activations as of the current step, in creation order. */
  activations: readonly ActivationState[];
  /** The axis: from the run's start to the current step's time (or now, for a live run). */
  startedAt: number;
  endAt: number;
  nodeNames: ReadonlyMap<string, string>;
  selectedNodeId: string | null;
  onSelectNode: (nodeId: string) => void;
}

/** Lane height in px (timeline.css sets the same). */
export const GANTT_LANE_HEIGHT = 24;

const KIND_LABELS: Record<Segment['kind'], string> = {
  queued: 'Queued',
  attempt: 'Attempt',
  failed: 'Failed attempt',
  open: 'Running attempt',
  'retry-gap': 'Waiting to retry',
  wait: 'Waiting',
};

export function Gantt({ activations, startedAt, endAt, nodeNames, selectedNodeId, onSelectNode }: GanttProps) {
  const geometry = useMemo(
    () => ganttGeometry(activations, startedAt, endAt, nodeNames),
    [activations, startedAt, endAt, nodeNames],
  );
  const scrollRef = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const viewport = useClientHeight(scrollRef, 300);
  const range = visibleRange(scrollTop, viewport, GANTT_LANE_HEIGHT, geometry.lanes.length, 4);

  return (
    <div className="gantt" data-testid="gantt" role="group" aria-label="Activations over time">
      <div className="gantt-axis" aria-hidden="true">
        <div className="gantt-label-column" />
        <div className="gantt-track">
          {geometry.ticks.map((tick) => (
            <span key={tick.at} className="gantt-tick" style={{ left: `${tick.left * 100}%` }}>
              {tick.label}
            </span>
          ))}
        </div>
      </div>
      <div ref={scrollRef} className="gantt-lanes" onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}>
        <div className="gantt-spacer" style={{ height: geometry.lanes.length * GANTT_LANE_HEIGHT }}>
          {geometry.lanes.slice(range.start, range.end).map((lane, offset) => (
            <GanttLane
              key={lane.activationId}
              lane={lane}
              top={(range.start + offset) * GANTT_LANE_HEIGHT}
              ticks={geometry.ticks}
              selected={lane.nodeId === selectedNodeId}
              onSelect={() => onSelectNode(lane.nodeId)}
            />
          ))}
        </div>
        {geometry.lanes.length === 0 && <p className="gantt-empty">No activations yet.</p>}
      </div>
    </div>
  );
}

function GanttLane({
  lane,
  top,
  ticks,
  selected,
  onSelect,
}: {
  lane: Lane;
  top: number;
  ticks: readonly { at: number; left: number }[];
  selected: boolean;
  onSelect: () => void;
}) {
  return (
    <div
      className={`gantt-lane lane-${lane.status}${selected ? ' selected' : ''}`}
      data-activation-id={lane.activationId}
      data-node-id={lane.nodeId}
      style={{ transform: `translateY(${top}px)` }}
      onClick={onSelect}
    >
      <button
        type="button"
        className="gantt-label gantt-label-column"
        aria-pressed={selected}
        title={`${lane.label}: ${lane.status}`}
        onClick={(event) => {
          event.stopPropagation();
          onSelect();
        }}
      >
        {lane.label}
      </button>
      <div className="gantt-track">
        {ticks.map((tick) => (
          <span key={tick.at} className="gantt-gridline" style={{ left: `${tick.left * 100}%` }} />
        ))}
        {lane.segments.map((segment, index) => (
          <span
            key={index}
            className={`gantt-bar gantt-${segment.kind}`}
            data-kind={segment.kind}
            style={{ left: `${segment.left * 100}%`, width: `max(${segment.width * 100}%, 2px)` }}
            title={segmentTitle(segment)}
          />
        ))}
      </div>
    </div>
  );
}

function segmentTitle(segment: Segment): string {
  const what = segment.attempt === null ? KIND_LABELS[segment.kind] : `${KIND_LABELS[segment.kind]} ${segment.attempt}`;
  const error = segment.error ? `: ${segment.error.message} [${segment.error.kind}]` : '';
  return `${what}, ${shortDuration(segment.to - segment.from)}${error}`;
}
