// The workflow list: create, rename, duplicate, delete (confirmed), import, export, templates.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Template, WorkflowSummary } from '../../../engine/api/index.js';
import { useApi, useEngineEvent } from '../app/client-context.js';
import { openWorkflowFile, saveWorkflowFile } from '../app/platform.js';
import { CREDENTIALS_HREF, navigate, runsHref } from '../app/routes.js';
import { InboxBadge } from '../approvals/InboxBadge.js';
import { useCommandHandlers } from '../commands/useCommandHandlers.js';
import { Icon } from '../ui/Icon.js';
import { ConfirmModal, Modal, PromptModal } from '../ui/Modal.js';
import { errorText, useToast } from '../ui/toast.js';

type Dialog =
  | { kind: 'create' }
  | { kind: 'rename'; workflow: WorkflowSummary }
  | { kind: 'delete'; workflow: WorkflowSummary }
  | { kind: 'templates' }
  | null;

function openCredentials(): void {
  navigate(CREDENTIALS_HREF);
}

export function WorkflowList({
  openId,
  onOpen,
  collapsed = false,
  onCollapse,
}: {
  openId: string | null;
  onOpen: (id: string | null) => void;
  /** Shown as a narrow rail: the list is hidden, its commands and dialogs still work. */
  collapsed?: boolean;
  onCollapse?: () => void;
}) {
  const api = useApi();
  const toast = useToast();
  const [workflows, setWorkflows] = useState<WorkflowSummary[]>([]);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [filter, setFilter] = useState('');

  const refresh = useCallback(() => {
    api.listWorkflows({}).then(setWorkflows, () => {});
  }, [api]);
  useEffect(refresh, [refresh]);
  useEngineEvent('workflowsChanged', refresh);
  useEffect(() => {
    api.listTemplates({}).then(setTemplates, () => {});
  }, [api]);

  const run = useCallback(
    async (action: () => Promise<void>) => {
      try {
        await action();
      } catch (error) {
        toast(errorText(error), 'error');
      }
    },
    [toast],
  );

  const importFile = useCallback(
    () =>
      run(async () => {
        const file = await openWorkflowFile();
        if (!file) return;
        const imported = await api.importWorkflow({ text: file.text });
        onOpen(imported.workflow.id);
        const errors = imported.problems.filter((problem) => problem.severity === 'error').length;
        toast(
          imported.version === null
            ? `Imported ${file.name} as a draft with ${errors} problem(s) to fix`
            : `Imported ${file.name} as version ${imported.version}`,
          errors > 0 ? 'error' : 'success',
        );
      }),
    [api, onOpen, run, toast],
  );

  const exportWorkflow = useCallback(
    (workflowId: string) =>
      run(async () => {
        const file = await api.exportWorkflow({ workflowId });
        if (await saveWorkflowFile(file.fileName, file.text)) toast(`Exported ${file.fileName}`, 'success');
      }),
    [api, run, toast],
  );

  useCommandHandlers(
    'app',
    useMemo(
      () => ({
        new: { run: () => setDialog({ kind: 'create' }) },
        open: { run: importFile },
        export: openId === null ? { run: () => {}, disabled: true } : { run: () => exportWorkflow(openId) },
        credentials: { run: openCredentials },
      }),
      [exportWorkflow, importFile, openId],
    ),
  );

  const shown = workflows.filter((workflow) => workflow.name.toLowerCase().includes(filter.toLowerCase()));
  return (
    <aside className={collapsed ? 'sidebar collapsed' : 'sidebar'} aria-label="Workflows">
      {collapsed ? (
        <div className="sidebar-rail">
          <button
            type="button"
            className="panel-toggle"
            onClick={onCollapse}
            aria-label="Show workflows"
            title="Show workflows"
          >
            <Icon name="chevron-right" />
          </button>
          <InboxBadge compact />
          <button
            type="button"
            className="panel-toggle"
            onClick={() => navigate(runsHref())}
            aria-label="Runs"
            title="Every run"
          >
            <Icon name="history" />
          </button>
          <button
            type="button"
            className="panel-toggle"
            onClick={openCredentials}
            aria-label="Credentials"
            title="Credentials"
          >
            <Icon name="lock" />
          </button>
        </div>
      ) : (
        <>
          <div className="sidebar-head">
            <span className="brand">Stepwise</span>
            <InboxBadge />
            <button
              type="button"
              className="primary"
              onClick={() => setDialog({ kind: 'create' })}
              title="New workflow"
            >
              <Icon name="plus" /> New
            </button>
            {onCollapse && (
              <button
                type="button"
                className="panel-toggle"
                onClick={onCollapse}
                aria-label="Hide workflows"
                title="Hide workflows"
              >
                <Icon name="chevron-left" />
              </button>
            )}
          </div>
          <div className="sidebar-actions">
            <button type="button" onClick={() => void importFile()} title="Import a .stepwise.json file">
              <Icon name="upload" /> Import
            </button>
            <button type="button" onClick={() => setDialog({ kind: 'templates' })}>
              Templates
            </button>
          </div>
          <input
            className="search"
            placeholder="Filter workflows"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
            aria-label="Filter workflows"
          />
          <ul className="workflow-list">
            {shown.map((workflow) => (
              <li key={workflow.id} className={workflow.id === openId ? 'active' : undefined}>
                <button
                  type="button"
                  className="workflow-open"
                  onClick={() => onOpen(workflow.id)}
                  data-testid="workflow-item"
                >
                  <span className="workflow-name">{workflow.name}</span>
                  <span className="workflow-meta">
                    {workflow.latestVersion === null ? 'draft' : `v${workflow.latestVersion}`}
                  </span>
                </button>
                <details className="row-menu">
                  <summary aria-label={`Actions for ${workflow.name}`}>⋯</summary>
                  <div className="menu">
                    <button type="button" onClick={() => setDialog({ kind: 'rename', workflow })}>
                      Rename
                    </button>
                    <button
                      type="button"
                      onClick={() =>
                        void run(async () => {
                          const copy = await api.duplicateWorkflow({ workflowId: workflow.id });
                          onOpen(copy.id);
                        })
                      }
                    >
                      Duplicate
                    </button>
                    <button type="button" onClick={() => void exportWorkflow(workflow.id)}>
                      Export
                    </button>
                    <button type="button" className="danger" onClick={() => setDialog({ kind: 'delete', workflow })}>
                      Delete
                    </button>
                  </div>
                </details>
              </li>
            ))}
            {shown.length === 0 && <li className="muted">No workflows yet.</li>}
          </ul>
          <div className="sidebar-foot">
            <button type="button" onClick={() => navigate(runsHref())} data-testid="open-runs" title="Every run">
              <Icon name="history" /> Runs
            </button>
            <button type="button" onClick={openCredentials} data-testid="open-credentials" title="Credentials">
              <Icon name="lock" /> Credentials
            </button>
          </div>
        </>
      )}

      {dialog?.kind === 'create' && (
        <PromptModal
          title="New workflow"
          label="Name"
          confirm="Create"
          onClose={() => setDialog(null)}
          onSubmit={(name) =>
            void run(async () => {
              const created = await api.createWorkflow({ name });
              setDialog(null);
              onOpen(created.id);
            })
          }
        />
      )}
      {dialog?.kind === 'rename' && (
        <PromptModal
          title="Rename workflow"
          label="Name"
          initial={dialog.workflow.name}
          confirm="Rename"
          onClose={() => setDialog(null)}
          onSubmit={(name) =>
            void run(async () => {
              await api.renameWorkflow({ workflowId: dialog.workflow.id, name });
              setDialog(null);
            })
          }
        />
      )}
      {dialog?.kind === 'delete' && (
        <ConfirmModal
          title="Delete workflow"
          text={`Delete "${dialog.workflow.name}"? Its versions stay for the runs pinned to them, but the workflow and its draft leave this list.`}
          confirm="Delete"
          onClose={() => setDialog(null)}
          onConfirm={() =>
            void run(async () => {
              await api.deleteWorkflow({ workflowId: dialog.workflow.id });
              if (openId === dialog.workflow.id) onOpen(null);
              setDialog(null);
            })
          }
        />
      )}
      {dialog?.kind === 'templates' && (
        <Modal title="Start from a template" onClose={() => setDialog(null)}>
          <ul className="template-list">
            {templates.map((template) => (
              <li key={template.file}>
                <button
                  type="button"
                  onClick={() =>
                    void run(async () => {
                      const created = await api.createWorkflow({ name: template.name, template: template.file });
                      setDialog(null);
                      onOpen(created.id);
                    })
                  }
                >
                  <strong>{template.name}</strong>
                  <span>{template.description}</span>
                  {template.mockService && (
                    <em className="template-mock" data-testid="template-mock">
                      Runs offline against the built-in mock service (not a real provider)
                    </em>
                  )}
                </button>
              </li>
            ))}
          </ul>
        </Modal>
      )}
    </aside>
  );
}
