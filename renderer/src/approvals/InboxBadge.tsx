// The inbox count, shown everywhere (sidebar head, collapsed rail): a link to the approvals page.
import { approvalsHref } from '../app/routes.js';
import { Icon } from '../ui/Icon.js';
import { useInbox } from './inbox-context.js';
import './approvals.css';

export function InboxBadge({ compact = false }: { compact?: boolean }) {
  const { total: count } = useInbox();
  const label = `Approvals: ${count} waiting`;
  return (
    <a
      href={approvalsHref()}
      className={`inbox-link${compact ? ' inbox-link-compact' : ''}`}
      aria-label={label}
      title={label}
    >
      {/* An icon, not a word: the sidebar head is narrow (240 px) and must keep its buttons. */}
      <Icon name="user-check" size={compact ? 16 : 14} />
      <span className={count === 0 ? 'inbox-count inbox-count-zero' : 'inbox-count'} data-testid="inbox-count">
        {count}
      </span>
    </a>
  );
}
