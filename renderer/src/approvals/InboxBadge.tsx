// The inbox count, shown everywhere (sidebar head, collapsed rail): a link to the approvals page.
import { approvalsHref } from '../app/routes.js';
import { useInbox } from './inbox-context.js';
import './approvals.css';

export function InboxBadge({ compact = false }: { compact?: boolean }) {
  const { items } = useInbox();
  const count = items?.length ?? 0;
  const label = `Approvals: ${count} waiting`;
  return (
    <a
      href={approvalsHref()}
      className={`inbox-link${compact ? ' inbox-link-compact' : ''}`}
      aria-label={label}
      title={label}
    >
      {!compact && <span className="inbox-link-text">Inbox</span>}
      <span className={count === 0 ? 'inbox-count inbox-count-zero' : 'inbox-count'} data-testid="inbox-count">
        {count}
      </span>
    </a>
  );
}
