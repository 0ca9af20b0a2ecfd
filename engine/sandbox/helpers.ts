// Installs the helpers (`$date`, `$text`, `$math`, `$data`: engine/model/sandbox-helpers.ts) as
// globals of a QuickJS context, before LOCKDOWN freezes them with everything else. Their one clock
// is the activation's time, set by the host before each activation through the function returned
// here, which user code cannot reach.
import { HELPER_NAMESPACES, installHelpers } from '../model/sandbox-helpers.js';

/** Evaluates to the host's setter of the activation time (ms; NaN when the request gave none). */
export const HELPERS_SOURCE = `(() => {
  'use strict';
  let activationTime = Number.NaN;
  const helpers = (${installHelpers.toString()})(() => {
    if (Number.isNaN(activationTime)) throw new Error('$date.now(): the time of this activation is not known here');
    return activationTime;
  });
  for (const name of ${JSON.stringify(HELPER_NAMESPACES)})
    Object.defineProperty(globalThis, name, { value: helpers[name], writable: false, enumerable: false, configurable: false });
  return (ms) => { activationTime = ms; };
})()`;
