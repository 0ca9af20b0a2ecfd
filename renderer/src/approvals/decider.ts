// Who decides in this app: the approver's name, asked once and remembered in localStorage.
import { useCallback, useState } from 'react';

const KEY = 'stepwise.approver';
export const DEFAULT_APPROVER = 'you@stepwise';

function stored(): string | null {
  const name = window.localStorage.getItem(KEY);
  return name !== null && name.trim() !== '' ? name : null;
}

/** The name (the default until one is given), whether it was ever given, and a setter that keeps it. */
export function useApprover(): { name: string; known: boolean; remember: (name: string) => void } {
  const [name, setName] = useState<string | null>(stored);
  const remember = useCallback((next: string) => {
    const trimmed = next.trim();
    if (trimmed === '') return;
    window.localStorage.setItem(KEY, trimmed);
    setName(trimmed);
  }, []);
  return { name: name ?? DEFAULT_APPROVER, known: name !== null, remember };
}
