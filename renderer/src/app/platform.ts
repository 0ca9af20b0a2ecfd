// What differs between the desktop shell and a browser tab: file dialogs and the app menu.
// The desktop preload exposes `window.stepwise`; in a browser we use a file input and a download.
import type { MenuTemplate } from '../commands/command-table.js';

/** The bridge the desktop preload exposes (nothing else from Electron reaches the page). */
export interface DesktopBridge {
  openWorkflowFile(): Promise<{ name: string; text: string } | null>;
  saveWorkflowFile: (fileName: string, text: string) => Promise<boolean>;
  /** Builds the app menu from the command table; main adds only its own roles (quit, reload…). */
  setMenu: (template: MenuTemplate) => void;
  /** A menu item was chosen: its command id, as sent in `setMenu`. */
  onMenu: (listener: (command: string) => void) => () => void;
  /** A native notification (Electron's); a click on it comes back through `onNotificationClick`. */
  notify: (title: string, body: string, tag: string) => void;
  onNotificationClick: (listener: (tag: string) => void) => () => void;
}

declare global {
  interface Window {
    stepwise?: DesktopBridge;
  }
}

export const desktop: DesktopBridge | undefined = window.stepwise;

const clicks = new Map<string, () => void>();

/**
 * Whether the person can be notified: the desktop app always can (native notifications); a
 * browser tab once they allowed it.
 */
export function canNotify(): boolean {
  if (desktop) return true;
  return typeof Notification !== 'undefined' && Notification.permission === 'granted';
}

/**
 * Tells the person something happened (a new approval, a reminder): a native notification in
 * the desktop app, the browser's Notification otherwise. `onClick` runs when they click it.
 */
export function notify(title: string, body: string, tag: string, onClick: () => void): void {
  if (desktop) {
    // One listener for every notification, each click handled by its tag (the latest one's).
    if (clicks.size === 0) desktop.onNotificationClick((clicked) => clicks.get(clicked)?.());
    clicks.set(tag, onClick);
    desktop.notify(title, body, tag);
    return;
  }
  if (!canNotify()) return;
  const notification = new Notification(title, { body, tag });
  notification.onclick = () => {
    window.focus();
    onClick();
    notification.close();
  };
}

export async function openWorkflowFile(): Promise<{ name: string; text: string } | null> {
  if (desktop) return desktop.openWorkflowFile();
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = '.json,application/json';
    input.onchange = () => {
      const file = input.files?.[0];
      if (!file) return resolve(null);
      void file.text().then((text) => resolve({ name: file.name, text }));
    };
    input.click();
  });
}

export async function saveWorkflowFile(fileName: string, text: string): Promise<boolean> {
  if (desktop) return desktop.saveWorkflowFile(fileName, text);
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return true;
}
