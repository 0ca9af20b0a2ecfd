// The nodes clipboard: localStorage, so a copy can be pasted into another workflow (or tab), and
// the system clipboard as well when the page may write it.
import { parseClip, type Clip } from './graph-edits.js';

const CLIPBOARD_KEY = 'stepwise.clipboard';

export function writeClip(clip: Clip): void {
  const text = JSON.stringify(clip);
  localStorage.setItem(CLIPBOARD_KEY, text);
  void navigator.clipboard?.writeText(text).catch(() => {});
}

export function readClip(): Clip | null {
  return parseClip(localStorage.getItem(CLIPBOARD_KEY));
}
