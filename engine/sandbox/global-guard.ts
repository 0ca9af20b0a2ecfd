// A fence around QuickJS's global object. In this QuickJS build, `Object.defineProperty(globalThis,
// 'JSON', { value: x })` replaces a frozen global's value without an error (the same call on any
// other frozen object throws), and the environment is reused by the next activation: one run could
// swap `JSON` or `$date` under another. So the define functions refuse the global object, and after
// each activation the globals are compared with what they were at lockdown; a difference retires
// the environment (see Environment.clean), so nothing changed there reaches another activation.
//
// The comparison is of values only, which is the whole hole: QuickJS does refuse every other change
// to the frozen global — adding or deleting a property, turning one into an accessor, changing its
// attributes (tests/unit/sandbox-helpers.unit.test.ts tries each) — and every global is a data
// property, checked when they are recorded. Reading values needs no descriptor objects: the check
// runs after every activation, and reading 60 descriptors cost more than most activations (175 µs
// against 12 µs).

/**
 * Evaluated before LOCKDOWN (the guarded functions are frozen with the rest). Evaluates to the host's
 * check: its first call (right after LOCKDOWN) records the globals, and answers false if one is an
 * accessor; later calls answer whether every global still has the value it had then.
 */
export const GLOBAL_GUARD_SOURCE = `(() => {
  'use strict';
  const global = globalThis;
  const { defineProperty, defineProperties, getOwnPropertyDescriptor, is } = Object;
  const reflectDefine = Reflect.defineProperty;
  const ownKeys = Reflect.ownKeys;
  const refuse = (target) => {
    if (target === global) throw new TypeError('the sandbox global object cannot be redefined');
  };
  const replace = (owner, name, value) => defineProperty(owner, name, { value, writable: true, configurable: true });
  replace(Object, 'defineProperty', { defineProperty(target, key, descriptor) { refuse(target); return defineProperty(target, key, descriptor); } }.defineProperty);
  replace(Object, 'defineProperties', { defineProperties(target, descriptors) { refuse(target); return defineProperties(target, descriptors); } }.defineProperties);
  replace(Reflect, 'defineProperty', { defineProperty(target, key, descriptor) { return target === global ? false : reflectDefine(target, key, descriptor); } }.defineProperty);
  let keys;
  let values;
  return () => {
    if (keys === undefined) {
      keys = ownKeys(global);
      values = [];
      for (const key of keys) {
        const descriptor = getOwnPropertyDescriptor(global, key);
        if (!('value' in descriptor)) return false;
        values.push(descriptor.value);
      }
      return true;
    }
    for (let i = 0; i < keys.length; i += 1) if (!is(global[keys[i]], values[i])) return false;
    return true;
  };
})()`;
