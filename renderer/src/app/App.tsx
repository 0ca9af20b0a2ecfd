// The app shell: workflow list on the left, the open workflow's editor on the right, the
// connection banner, and the commands (keys, menu) both of them handle. The open workflow is in
// the URL hash, so a reload returns to it.
import { useCallback, useEffect, useState } from 'react';
import type { EngineClient, NodeType } from '../../../engine/api/index.js';
import { CommandProvider } from '../commands/CommandProvider.js';
import { CredentialsView } from '../credentials/CredentialsView.js';
import { Editor } from '../editor/Editor.js';
import { ToastProvider } from '../ui/toast.js';
import { WorkflowList } from '../workflows/WorkflowList.js';
import { ClientProvider, useApi, useClientStatus } from './client-context.js';

const CREDENTIALS_HASH = '#/credentials';

function workflowFromHash(): string | null {
  const match = /^#\/workflows\/([^/]+)/.exec(window.location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

export function App({ client }: { client: EngineClient }) {
  return (
    <ClientProvider client={client}>
      <ToastProvider>
        <CommandProvider>
          <Shell />
        </CommandProvider>
      </ToastProvider>
    </ClientProvider>
  );
}

function Shell() {
  const api = useApi();
  const status = useClientStatus();
  const [openId, setOpenId] = useState<string | null>(workflowFromHash);
  const [credentials, setCredentials] = useState(() => window.location.hash === CREDENTIALS_HASH);
  const [nodeTypes, setNodeTypes] = useState<NodeType[] | null>(null);

  useEffect(() => {
    const onHash = () => {
      setOpenId(workflowFromHash());
      setCredentials(window.location.hash === CREDENTIALS_HASH);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    api.listNodeTypes({}).then(setNodeTypes, () => {});
  }, [api]);

  const open = useCallback((workflowId: string | null) => {
    window.location.hash = workflowId === null ? '' : `#/workflows/${encodeURIComponent(workflowId)}`;
    setOpenId(workflowId);
  }, []);

  return (
    <div className="shell">
      {status !== 'ready' && (
        <div className={`banner banner-${status}`} role="status" data-testid="connection-banner">
          {status === 'connecting'
            ? 'Connecting to the engine…'
            : 'Engine connection lost — reconnecting… Your edits are kept.'}
        </div>
      )}
      <WorkflowList openId={openId} onOpen={open} />
      <main className="workspace">
        {credentials ? (
          <CredentialsView />
        ) : openId !== null && nodeTypes ? (
          <Editor key={openId} workflowId={openId} nodeTypes={nodeTypes} onClosed={() => open(null)} />
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
