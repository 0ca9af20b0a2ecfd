// The inbox, read once for the whole app: the badge, the approvals page and the notifications all
// show the same list. It is read again 200 ms after the last `runsChanged` (a decision made
// anywhere — this app, the CLI, HTTP — changes a run) and after a reconnect (pushes were missed).
// Reminders: an item whose `remindAt` has passed is `reminded` (the inbox highlights it); one whose
// reminder comes due while the page is open is announced once.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { InboxItem } from '../../../engine/api/index.js';
import { useApi, useLiveRefresh } from '../app/client-context.js';
import { desktop, notify } from '../app/platform.js';
import { approvalsHref } from '../app/routes.js';

const REFRESH_DELAY_MS = 200;
// setTimeout's longest delay; a reminder further off is looked at again then.
const MAX_DELAY_MS = 2 ** 31 - 1;

export type NotificationState = 'unsupported' | NotificationPermission;

export interface Inbox {
  /** Newest first (a page of them); null until the first read. */
  items: InboxItem[] | null;
  /** Every open approval, however many `items` holds. */
  total: number;
  refresh: () => void;
  notifications: NotificationState;
  /** Asks the browser (or Electron) to show notifications; only ever from a click. */
  askNotifications: () => void;
  /** Keys (`itemKey`) of the items whose reminder came due. */
  reminded: ReadonlySet<string>;
}

const InboxContext = createContext<Inbox | null>(null);

export const itemKey = (item: Pick<InboxItem, 'runId' | 'activationId'>) => `${item.runId}/${item.activationId}`;

function notificationState(): NotificationState {
  // The desktop app shows native notifications: nothing to ask.
  if (desktop) return 'granted';
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

export function InboxProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [items, setItems] = useState<InboxItem[] | null>(null);
  const [total, setTotal] = useState(0);
  const [notifications, setNotifications] = useState<NotificationState>(notificationState);
  // Items seen since the page loaded: only items that arrive later are announced.
  const seen = useRef<Set<string> | null>(null);
  // Answers can cross: only the latest request's answer is kept.
  const latest = useRef(0);

  const refresh = useCallback(() => {
    const request = ++latest.current;
    api.listInbox({}).then(
      ({ items: next, total: count }) => {
        if (request !== latest.current) return;
        const known = seen.current;
        if (known === null) seen.current = new Set(next.map(itemKey));
        else
          for (const item of next) {
            if (known.has(itemKey(item))) continue;
            known.add(itemKey(item));
            announce(item);
          }
        setItems(next);
        setTotal(count);
      },
      () => {},
    );
  }, [api]);

  useLiveRefresh(refresh, REFRESH_DELAY_MS);

  const askNotifications = useCallback(() => {
    if (typeof Notification === 'undefined') return;
    void Notification.requestPermission().then(setNotifications, () => setNotifications(notificationState()));
  }, []);

  const reminded = useReminders(items);

  const value = useMemo(
    () => ({ items, total, refresh, notifications, askNotifications, reminded }),
    [items, total, refresh, notifications, askNotifications, reminded],
  );
  return <InboxContext.Provider value={value}>{children}</InboxContext.Provider>;
}

const EMPTY: ReadonlySet<string> = new Set();

/**
 * The items whose reminder came due, looked at again when the next one comes due. A reminder that
 * comes due while the page is open is announced once; one already past when the page loaded is
 * only highlighted (the person is looking at the inbox, or was told before).
 */
function useReminders(items: InboxItem[] | null): ReadonlySet<string> {
  const [reminded, setReminded] = useState<ReadonlySet<string>>(EMPTY);
  const [loadedAt] = useState(() => Date.now());
  const announced = useRef(new Set<string>());
  useEffect(() => {
    if (items === null) return;
    let timer: number | undefined;
    const look = () => {
      const now = Date.now();
      const due = new Set<string>();
      let next = Infinity;
      for (const item of items) {
        const at = item.card.remindAt;
        if (at === null) continue;
        if (at > now) {
          next = Math.min(next, at);
          continue;
        }
        const key = itemKey(item);
        due.add(key);
        if (at > loadedAt && !announced.current.has(key)) {
          announced.current.add(key);
          announce(item, 'Reminder');
        }
      }
      setReminded((current) =>
        current.size === due.size && [...due].every((key) => current.has(key)) ? current : due,
      );
      if (next !== Infinity) timer = window.setTimeout(look, Math.min(next - now + 10, MAX_DELAY_MS));
    };
    look();
    return () => window.clearTimeout(timer);
  }, [items, loadedAt]);
  return reminded;
}

/**
 * A notification for an approval (Electron's in the desktop app, the browser's once the person
 * allowed them); a click opens the inbox.
 */
function announce(item: InboxItem, what: 'Approval' | 'Reminder' = 'Approval'): void {
  // A reminder must not replace the arrival's notification (same tag), nor be replaced by it.
  const tag = `${what === 'Reminder' ? 'reminder:' : ''}${itemKey(item)}`;
  notify(`${what}: ${item.title}`, `${item.workflowName} · run ${item.runId}`, tag, () => {
    window.location.hash = approvalsHref();
  });
}

export function useInbox(): Inbox {
  const inbox = useContext(InboxContext);
  if (!inbox) throw new Error('useInbox outside InboxProvider');
  return inbox;
}
