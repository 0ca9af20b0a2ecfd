// ← / → / Home / End step through the run anywhere on the run view, except while the user types
// (a text field, a contenteditable, Monaco) or works in a dialog. Registered on window while the
// view is mounted; the handler reads the latest position through a ref, so it is added once.
import { useEffect, useRef } from 'react';

const TYPING = 'input, textarea, select, [contenteditable=""], [contenteditable="true"], .monaco-editor';

/** Keys belong to a text field being typed in, or to an open dialog (wherever the focus is). */
export function isTyping(target: EventTarget | null): boolean {
  if (document.querySelector('[role="dialog"]') !== null) return true;
  return target instanceof Element && target.closest(TYPING) !== null;
}

export function useStepKeys(position: number, lastSeq: number, onSeek: (seq: number) => void): void {
  const latest = useRef({ position, lastSeq, onSeek });
  useEffect(() => {
    latest.current = { position, lastSeq, onSeek };
  }, [position, lastSeq, onSeek]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
      const { position: at, lastSeq: last, onSeek: seek } = latest.current;
      const first = last > 0 ? 1 : 0;
      const target =
        event.key === 'ArrowLeft'
          ? at - 1
          : event.key === 'ArrowRight'
            ? at + 1
            : event.key === 'Home'
              ? first
              : event.key === 'End'
                ? last
                : null;
      if (target === null) return;
      // Arrows would also scroll the page or pan the canvas.
      event.preventDefault();
      seek(Math.max(first, Math.min(last, target)));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
