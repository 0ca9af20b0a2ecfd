// The engine's API contract: request/response/event schemas, wire frames, the client and the
// host-side dispatcher. Pure and shared: the renderer and Electron main import only this from engine/.
export * from './contract.js';
export * from './schemas.js';
export * from './protocol.js';
export { EngineClient, type ClientStatus, type Connection } from './client.js';
export { dispatch } from './dispatch.js';
export { contentSecurityPolicy } from './content-security-policy.js';
export { WebSocketConnection, type WebSocketLike } from './websocket-connection.js';
export {
  diffWorkflows,
  isEmptyDiff,
  type FieldChange,
  type NodeChange,
  type WorkflowDiff,
} from '../model/workflow-diff.js';
export { formatWorkflowFile, workflowFileName, WORKFLOW_FILE_SUFFIX } from '../model/workflow-file.js';
export { LITERAL_FORMATS, parseTemplate } from '../model/template.js';
export {
  OUTPUT_LIMIT,
  slugId,
  WORKFLOW_FORMAT,
  type Workflow,
  type WorkflowEdge,
  type WorkflowNode,
  type RetryPolicy,
} from '../model/workflow.js';
export { parseDuration } from '../model/duration.js';
export { helperDeclarations } from '../model/sandbox-helpers.js';
export { outputPorts, UNDO_PORT } from '../model/ports.js';
export {
  APPROVE,
  cardOf,
  formProblem,
  PLAIN_CARD,
  REJECT,
  TIMEOUT_PORT,
  type ApprovalWaitRequest,
  type CardOutcome,
  type FormField,
  type InboxCard,
} from '../waits/index.js';
