// The built-in node types. The engine registers these through its registry; nothing else imports them.
import type { AnyNodeDefinition } from '../engine/sdk/index.js';
import { approval } from './approval/index.js';
import { branchIf } from './branch-if/index.js';
import { branchSwitch } from './branch-switch/index.js';
import { code } from './code/index.js';
import { fail } from './fail/index.js';
import { httpRequest } from './http-request/index.js';
import { llmChat } from './llm-chat/index.js';
import { loopMap } from './loop-map/index.js';
import { merge } from './merge/index.js';
import { output } from './output/index.js';
import { subworkflow } from './subworkflow/index.js';
import { transform } from './transform/index.js';
import { triggerManual } from './trigger-manual/index.js';
import { triggerSchedule } from './trigger-schedule/index.js';
import { triggerWebhook } from './trigger-webhook/index.js';
import { waitSignal } from './wait-signal/index.js';
import { waitTimer, waitTimerV1 } from './wait-timer/index.js';

export { expressionSyntax } from './syntax.js';

export const builtinNodes: readonly AnyNodeDefinition[] = [
  triggerManual,
  triggerWebhook,
  triggerSchedule,
  code,
  transform,
  branchIf,
  branchSwitch,
  httpRequest,
  llmChat,
  waitTimerV1,
  waitTimer,
  waitSignal,
  approval,
  subworkflow,
  loopMap,
  merge,
  fail,
  output,
];
