// The built-in node types. The engine registers these through its registry; nothing else imports them.
import type { AnyNodeDefinition } from '../engine/sdk/index.js';
import { approval } from './approval/index.js';
import { branchIf } from './branch-if/index.js';
import { code } from './code/index.js';
import { fail } from './fail/index.js';
import { httpRequest } from './http-request/index.js';
import { merge } from './merge/index.js';
import { output } from './output/index.js';
import { triggerManual } from './trigger-manual/index.js';
import { waitTimer, waitTimerV1 } from './wait-timer/index.js';

export const builtinNodes: readonly AnyNodeDefinition[] = [
  triggerManual,
  code,
  branchIf,
  httpRequest,
  waitTimerV1,
  waitTimer,
  approval,
  merge,
  fail,
  output,
];
