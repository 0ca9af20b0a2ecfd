// The app shell: workflow list on the left (collapsible, remembered), the current place (an editor, the runs list, a run,
// the approvals inbox, credentials) on the right, the connection banner, and the commands (keys, menu) they handle.
// The place is the URL hash (routes.ts), so a reload or a shared link returns to it.
import { useCallback, useEffect, useState } from 'react';
import type { EngineClient, NodeType } from '../../../engine/api/index.js';
import { ApprovalsPage } from '../approvals/ApprovalsPage.js';
import { InboxProvider } from '../approvals/inbox-context.js';
import { CommandProvider } from '../commands/CommandProvider.js';
import { CredentialsView } from '../credentials/CredentialsView.js';
import { Editor } from '../editor/Editor.js';
import { ToastProvider } from '../ui/toast.js';
import { LAYOUT_KEYS, usePersistentFlag } from '../ui/usePersistentFlag.js';
import { WorkflowList } from '../workflows/WorkflowList.js';
import { RunsList } from '../runs/RunsList.js';
import { RunView } from '../runs/RunView.js';
import { ClientProvider, useApi, useClientStatus } from './client-context.js';
import { LateTimersNotice } from './LateTimersNotice.js';
import { navigate, parseRoute, workflowHref, type Route } from './routes.js';

export function App({ client }: { client: EngineClient }) {
  return (
    <ClientProvider client={client}>
      <ToastProvider>
        <InboxProvider>
          <CommandProvider>
            <Shell />
          </CommandProvider>
        </InboxProvider>
      </ToastProvider>
    </ClientProvider>
  );
}

function Shell() {
  const api = useApi();
  const status = useClientStatus();
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  const [nodeTypes, setNodeTypes] = useState<NodeType[] | null>(null);
  const openId = route.page === 'workflow' ? route.workflowId : null;
  const [sidebarHidden, setSidebarHidden] = usePersistentFlag(LAYOUT_KEYS.sidebar, false);

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    api.listNodeTypes({}).then(setNodeTypes, () => {});
  }, [api]);

  const open = useCallback((workflowId: string | null) => {
    navigate(workflowId === null ? '#/' : workflowHref(workflowId));
  }, []);

  return (
    <div className={sidebarHidden ? 'shell sidebar-hidden' : 'shell'}>
      {status !== 'ready' && (
        <div className={`banner banner-${status}`} role="status" data-testid="connection-banner">
          {status === 'connecting'
            ? 'Connecting to the engine…'
            : 'Engine connection lost — reconnecting… Your edits are kept.'}
        </div>
      )}
      <LateTimersNotice />
      <WorkflowList
        openId={openId}
        onOpen={open}
        collapsed={sidebarHidden}
        onCollapse={() => setSidebarHidden(!sidebarHidden)}
      />
      <main className="workspace">
        {route.page === 'credentials' ? (
          <CredentialsView />
        ) : route.page === 'approvals' ? (
          <ApprovalsPage />
        ) : route.page === 'runs' ? (
          <RunsList filter={route.filter} />
        ) : route.page === 'run' && nodeTypes ? (
          <RunView key={route.runId} runId={route.runId} step={route.step} nodeTypes={nodeTypes} />
        ) : route.page === 'workflow' && nodeTypes ? (
          <Editor
            key={route.workflowId}
            workflowId={route.workflowId}
            openVersion={route.version}
            nodeTypes={nodeTypes}
            onClosed={() => open(null)}
          />
        ) : route.page !== 'home' ? (
          <div className="loading">Loading…</div>
        ) : (
          <div className="empty-state">
            <h1>Stepwise</h1>
            <p>
              Create a workflow, open a template, or import a <code>.stepwise.json</code> file.
            </p>
          </div>
        )}
      </main>
    </div>
  );
}
