// A boolean UI preference kept in localStorage (which panels are collapsed): the layout a user
// leaves is the one they find after a reload.
import { useCallback, useState } from 'react';

export function readFlag(key: string, fallback: boolean): boolean {
  try {
    const stored = window.localStorage.getItem(key);
    return stored === null ? fallback : stored === 'true';
  } catch {
    // Storage denied (private mode, policy): the default layout.
    return fallback;
  }
}

export function usePersistentFlag(key: string, fallback: boolean): [boolean, (value: boolean) => void] {
  const [value, setValue] = useState(() => readFlag(key, fallback));
  const set = useCallback(
    (next: boolean) => {
      setValue(next);
      try {
        window.localStorage.setItem(key, String(next));
      } catch {
        // Not remembered; the change still applies now.
      }
    },
    [key],
  );
  return [value, set];
}

/** The keys of the collapsible panels. */
export const LAYOUT_KEYS = {
  sidebar: 'stepwise:layout:sidebar-hidden',
  palette: 'stepwise:layout:palette-hidden',
  panel: 'stepwise:layout:panel-hidden',
} as const;
