// The inbox (`#/approvals`): everything waiting on a person, newest first. Each item says what is
// asked, of which workflow and run, since when, who it is assigned to and how far its quorum is,
// and the input the approver is shown; an item whose reminder came due is highlighted. Opening it
// shows its approval card; an approval short of the quorum keeps the item (and its card) open. A decided item leaves the list with the next read of the inbox; one
// someone else decided while its card was open keeps its card (outside the list) until closed, so a
// click on it is told who decided first rather than the card vanishing under the pointer.
import { useCallback, useState } from 'react';
import { APPROVE, type InboxItem } from '../../../engine/api/index.js';
import { runHref } from '../app/routes.js';
import { useNow } from '../runs/view/use-now.js';
import { JsonView } from '../ui/JsonView.js';
import { useToast } from '../ui/toast.js';
import { ApprovalCard, decidedText, type Decided } from './ApprovalCard.js';
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
  const { items, refresh, notifications, askNotifications, reminded } = useInbox();
  const toast = useToast();
  const [open, setOpen] = useState<InboxItem | null>(null);
  const openKey = open === null ? null : itemKey(open);
  // Relative times move on without a read of the inbox.
  const now = useNow(true);
  const decided = useCallback(
    (decided: Decided, item: InboxItem) => {
      // A vote leaves the wait open: the card stays to say so, and the row shows the new count.
      if (decided.kind === 'decided') {
        setOpen(null);
        toast(`${decidedText(decided.outcome, decided.by)}: ${item.title} (run ${item.runId})`, 'success');
      }
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
          <ApprovalItemBody item={gone} now={now} open due={false} onToggle={() => setOpen(null)} onDecided={decided} />
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
              due={reminded.has(itemKey(item))}
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
  /** Its reminder came due: highlighted until decided. */
  due: boolean;
  onToggle: () => void;
  onDecided: (decided: Decided, item: InboxItem) => void;
}

function ApprovalItem(props: ItemProps) {
  const { item } = props;
  return (
    <li
      className={props.due ? 'approval-item approval-item-due' : 'approval-item'}
      data-testid="approval-item"
      data-run-id={item.runId}
      data-node-id={item.nodeId}
      data-reminder={props.due ? 'due' : undefined}
    >
      <ApprovalItemBody {...props} />
    </li>
  );
}

/** "1 of 2 approvals: alice". */
function quorumProgress(item: InboxItem): string {
  const approvals = item.votes.filter((vote) => vote.decision === APPROVE.port);
  const names = approvals.length > 0 ? `: ${approvals.map((vote) => vote.by).join(', ')}` : '';
  return `${approvals.length} of ${item.card.quorum} approvals${names}`;
}

function ApprovalItemBody({ item, now, open, due, onToggle, onDecided }: ItemProps) {
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
        {(item.card.assignees.length > 0 || item.card.quorum > 1 || due) && (
          <span className="approval-item-who" data-testid="approval-item-who">
            {[
              ...(due ? ['Reminder: still waiting'] : []),
              ...(item.card.assignees.length > 0 ? [`Assigned to ${item.card.assignees.join(', ')}`] : []),
              ...(item.card.quorum > 1 ? [quorumProgress(item)] : []),
            ].join(' · ')}
          </span>
        )}
      </div>
      {open ? (
        <ApprovalCard request={item} onDecided={(decided) => onDecided(decided, item)} />
      ) : (
        <JsonView value={item.input} testId="approval-input" label="Input shown to the approver" />
      )}
    </>
  );
}
