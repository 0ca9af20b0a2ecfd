// The inbox, read once for the whole app: the badge, the approvals page and the notifications all
// show the same list. It is read again 200 ms after the last `runsChanged` (a decision made
// anywhere — this app, the CLI, HTTP — changes a run) and after a reconnect (pushes were missed).
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { InboxItem } from '../../../engine/api/index.js';
import { useApi, useEngineEvent, useOnReconnect } from '../app/client-context.js';
import { approvalsHref } from '../app/routes.js';

const REFRESH_DELAY_MS = 200;

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
}

const InboxContext = createContext<Inbox | null>(null);

export const itemKey = (item: Pick<InboxItem, 'runId' | 'activationId'>) => `${item.runId}/${item.activationId}`;

function notificationState(): NotificationState {
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

  useEffect(refresh, [refresh]);
  useOnReconnect(refresh);
  const timer = useRef<number | undefined>(undefined);
  const onRunsChanged = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(refresh, REFRESH_DELAY_MS);
  }, [refresh]);
  useEngineEvent('runsChanged', onRunsChanged);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const askNotifications = useCallback(() => {
    if (typeof Notification === 'undefined') return;
    void Notification.requestPermission().then(setNotifications, () => setNotifications(notificationState()));
  }, []);

  const value = useMemo(
    () => ({ items, total, refresh, notifications, askNotifications }),
    [items, total, refresh, notifications, askNotifications],
  );
  return <InboxContext.Provider value={value}>{children}</InboxContext.Provider>;
}

/** A desktop notification for a new approval, when the person allowed them; a click opens the inbox. */
function announce(item: InboxItem): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  const notification = new Notification(`Approval: ${item.title}`, {
    body: `${item.workflowName} · run ${item.runId}`,
    tag: itemKey(item),
  });
  notification.onclick = () => {
    window.focus();
    window.location.hash = approvalsHref();
  };
}

export function useInbox(): Inbox {
  const inbox = useContext(InboxContext);
  if (!inbox) throw new Error('useInbox outside InboxProvider');
  return inbox;
}
