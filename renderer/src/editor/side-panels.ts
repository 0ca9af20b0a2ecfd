// The side panels right of the canvas, one entry each: the default one (the inspector) has no
// toolbar toggle, the others get one. A panel may put decorations (or another graph) on the
// canvas while it is open; the editor clears them when it closes.
import type { ComponentType } from 'react';
import type { Problem } from '../../../engine/api/index.js';
import type { CanvasOverlay } from './decorations.js';
import { Inspector } from './inspector/Inspector.js';
import { VersionsPanel } from './VersionsPanel.js';

export interface SidePanelProps {
  workflowId: string;
  /** The version the URL names (`#/workflows/<id>/versions/<n>`): the versions panel shows it. */
  openVersion?: number | undefined;
  problems: Problem[];
  /** Back to the default panel. */
  close: () => void;
  /** What the canvas shows besides the draft; null shows the draft alone again. */
  showOnCanvas: (overlay: CanvasOverlay | null) => void;
}

export interface SidePanel {
  id: string;
  toggle?: { label: string; icon: string; title: string };
  Component: ComponentType<SidePanelProps>;
}

export const SIDE_PANELS = [
  { id: 'inspector', Component: Inspector },
  {
    id: 'versions',
    toggle: { label: 'Versions', icon: 'history', title: 'Version history' },
    Component: VersionsPanel,
  },
] as const satisfies readonly SidePanel[];

export type SidePanelId = (typeof SIDE_PANELS)[number]['id'];

export const DEFAULT_PANEL: SidePanelId = 'inspector';
