// A fence around QuickJS's global object. In this QuickJS build, `Object.defineProperty(globalThis,
// 'JSON', { value: x })` replaces a frozen global's value without an error (the same call on any
// other frozen object throws), and the environment is reused by the next activation: one run could
// swap `JSON` or `$date` under another. So the define functions refuse the global object, and after
// each activation the globals are compared with what they were at lockdown; a difference retires
// the environment (see Environment.clean), so nothing changed there reaches another activation.

/**
 * Evaluated before LOCKDOWN (the guarded functions are frozen with the rest). Evaluates to the host's
 * check: its first call (right after LOCKDOWN) records the globals; later calls answer whether
 * every global still has the value or accessors it had then, and no global was added.
 */
export const GLOBAL_GUARD_SOURCE = `(() => {
  'use strict';
  const global = globalThis;
  const { defineProperty, defineProperties, getOwnPropertyDescriptor } = Object;
  const reflectDefine = Reflect.defineProperty;
  const ownKeys = Reflect.ownKeys;
  const refuse = (target) => {
    if (target === global) throw new TypeError('the sandbox global object cannot be redefined');
  };
  const replace = (owner, name, value) => defineProperty(owner, name, { value, writable: true, configurable: true });
  replace(Object, 'defineProperty', { defineProperty(target, key, descriptor) { refuse(target); return defineProperty(target, key, descriptor); } }.defineProperty);
  replace(Object, 'defineProperties', { defineProperties(target, descriptors) { refuse(target); return defineProperties(target, descriptors); } }.defineProperties);
  replace(Reflect, 'defineProperty', { defineProperty(target, key, descriptor) { return target === global ? false : reflectDefine(target, key, descriptor); } }.defineProperty);
  let recorded;
  const read = () => ownKeys(global).map((key) => {
    const descriptor = getOwnPropertyDescriptor(global, key);
    return [key, descriptor.value, descriptor.get, descriptor.set];
  });
  return () => {
    const now = read();
    if (recorded === undefined) { recorded = now; return true; }
    if (now.length !== recorded.length) return false;
    for (let i = 0; i < now.length; i += 1)
      for (let j = 0; j < 4; j += 1) if (!Object.is(now[i][j], recorded[i][j])) return false;
    return true;
  };
})()`;
