// The inbox (`#/approvals`): everything waiting on a person, newest first. Each item says what is
// asked, of which workflow and run, since when, and the input the approver is shown; opening it
// shows its approval card. A decided item leaves the list with the next read of the inbox; one
// someone else decided while its card was open keeps its card (outside the list) until closed, so a
// click on it is told who decided first rather than the card vanishing under the pointer.
import { useCallback, useState } from 'react';
import type { InboxItem } from '../../../engine/api/index.js';
import { runHref } from '../app/routes.js';
import { useNow } from '../runs/view/use-now.js';
import { JsonView } from '../ui/JsonView.js';
import { useToast } from '../ui/toast.js';
import { ApprovalCard } from './ApprovalCard.js';
import { itemKey, useInbox } from './inbox-context.js';
import './approvals.css';

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function since(at: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

export function ApprovalsPage() {
  const { items, refresh, notifications, askNotifications } = useInbox();
  const toast = useToast();
  const [open, setOpen] = useState<InboxItem | null>(null);
  const openKey = open === null ? null : itemKey(open);
  // Relative times move on without a read of the inbox.
  const now = useNow(true);
  const decided = useCallback(
    (decision: 'approved' | 'rejected', item: InboxItem) => {
      setOpen(null);
      toast(`${decision === 'approved' ? 'Approved' : 'Rejected'}: ${item.title} (run ${item.runId})`, 'success');
      refresh();
    },
    [refresh, toast],
  );
  const gone = open !== null && items !== null && !items.some((item) => itemKey(item) === openKey) ? open : null;
  return (
    <section className="approvals" data-testid="approvals-view" aria-label="Approvals">
      <header className="approvals-head">
        <h1>Approvals</h1>
        {notifications === 'default' && (
          <button type="button" onClick={askNotifications}>
            Notify me of new approvals
          </button>
        )}
        {notifications === 'granted' && <span className="muted">Notifications are on for new approvals.</span>}
        {notifications === 'denied' && (
          <span className="muted">Notifications are blocked; the browser's site settings can allow them.</span>
        )}
      </header>
      {gone && (
        <div className="approval-item approval-item-closed" data-testid="approval-item-closed">
          <p className="muted">This approval is no longer waiting: someone decided it meanwhile.</p>
          <ApprovalItemBody item={gone} now={now} open onToggle={() => setOpen(null)} onDecided={decided} />
        </div>
      )}
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p className="muted" data-testid="approvals-empty">
          Nothing is waiting on you.
        </p>
      ) : (
        <ul className="approval-list">
          {items.map((item) => (
            <ApprovalItem
              key={itemKey(item)}
              item={item}
              now={now}
              open={openKey === itemKey(item)}
              onToggle={() => setOpen(openKey === itemKey(item) ? null : item)}
              onDecided={decided}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

interface ItemProps {
  item: InboxItem;
  now: number;
  open: boolean;
  onToggle: () => void;
  onDecided: (decision: 'approved' | 'rejected', item: InboxItem) => void;
}

function ApprovalItem(props: ItemProps) {
  const { item } = props;
  return (
    <li className="approval-item" data-testid="approval-item" data-run-id={item.runId} data-node-id={item.nodeId}>
      <ApprovalItemBody {...props} />
    </li>
  );
}

function ApprovalItemBody({ item, now, open, onToggle, onDecided }: ItemProps) {
  return (
    <>
      <div className="approval-item-head">
        <button type="button" className="approval-item-title" aria-expanded={open} onClick={onToggle}>
          {item.title}
        </button>
        <span className="approval-item-meta">
          {item.workflowName} v{item.version} · run <a href={runHref(item.runId)}>{item.runId}</a> · node{' '}
          <code>{item.nodeId}</code> ·{' '}
          <time dateTime={new Date(item.createdAt).toISOString()} title={new Date(item.createdAt).toLocaleString()}>
            {since(item.createdAt, now)}
          </time>
        </span>
      </div>
      {open ? (
        <ApprovalCard request={item} onDecided={(decision) => onDecided(decision, item)} />
      ) : (
        <JsonView value={item.input} testId="approval-input" label="Input shown to the approver" />
      )}
    </>
  );
}
