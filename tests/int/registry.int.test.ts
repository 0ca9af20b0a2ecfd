// Node types are registered by type + typeVersion; a run pinned to an old typeVersion keeps its
// semantics after a newer one is registered.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../engine/registry/index.js';
import { defineNode, NO_RETRY } from '../../engine/sdk/index.js';
import { builtinNodes } from '../../nodes/index.js';
import { chain, node } from '../support/harness.js';
import { runWorkflow, testEngine } from '../support/engine.js';

const greet = (typeVersion: number, greeting: string) =>
  defineNode({
    type: 'demo.greet',
    typeVersion,
    title: 'Greet',
    description: 'Says hello.',
    category: 'Data',
    icon: 'smile',
    ports: { in: ['in'], out: ['out'] },
    config: z.strictObject({ name: z.string() }),
    retry: NO_RETRY,
    sideEffects: 'pure',
    execute: (ctx) => ({ port: 'out', output: `${greeting}, ${ctx.config.name}` }),
  });

describe('node type versions', () => {
  it('runs each node with the typeVersion its workflow names', async () => {
    const registry = new NodeRegistry([...builtinNodes, greet(1, 'Hello'), greet(2, 'Howdy')]);
    expect(registry.versionsOf('demo.greet')).toEqual([1, 2]);
    const engine = testEngine({ registry });
    const v1 = await runWorkflow(engine, chain('old', [node('g', 'demo.greet', { name: 'Ada' }, { typeVersion: 1 })]));
    const v2 = await runWorkflow(engine, chain('new', [node('g', 'demo.greet', { name: 'Ada' }, { typeVersion: 2 })]));
    expect(v1.output).toBe('Hello, Ada');
    expect(v2.output).toBe('Howdy, Ada');
  });

  it('refuses to register the same type and version twice', () => {
    expect(() => new NodeRegistry([greet(1, 'a'), greet(1, 'b')])).toThrow(/demo.greet@1 is registered twice/);
  });

  it('refuses a node with an outside effect that would run inside the commit scheduling it', () => {
    // `inline` and `executeNow` run a node before its start is durable: a pure node only.
    const write = { ...greet(1, 'a'), sideEffects: 'write' as const };
    expect(() => new NodeRegistry([{ ...write, inline: true }])).toThrow(
      /demo.greet@1 has `inline` but side effects "write": only a pure node may run inside the commit/,
    );
    expect(() => new NodeRegistry([{ ...write, executeNow: () => ({ port: 'out', output: 'now' }) }])).toThrow(
      /demo.greet@1 has `executeNow` but side effects "write"/,
    );
    // Every built-in type that runs so is pure (they are all registered by the default registry).
    const now = builtinNodes.filter((definition) => definition.inline === true || 'executeNow' in definition);
    expect(now.map((definition) => definition.type).sort()).toEqual(
      ['branch.if', 'code', 'merge', 'output', 'trigger.manual', 'trigger.schedule', 'trigger.webhook'].sort(),
    );
    expect(new NodeRegistry(builtinNodes).list()).toHaveLength(builtinNodes.length);
  });
});
