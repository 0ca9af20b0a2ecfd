// Where a step node's ports are: the handles StepNode draws and the boxes React Flow gets from
// stepGeometry (to draw edges before measuring) come from one layout and must agree.
import { describe, expect, it } from 'vitest';
import { branchSwitch } from '../../nodes/branch-switch/index.js';
import { stepGeometry, stepLayout } from '../../renderer/src/editor/step-layout.js';

// No built-in node type has several inputs yet: a made-up one.
const joinType = { ports: { in: ['left', 'right', 'extra'], out: ['out'] } };
const branchType = { ports: { in: ['in'], out: ['true', 'false', 'error'] } };

/** Centre of each handle box, by port, relative to the node's border box. */
function handleCentres(type: { ports: { in: string[]; out: string[] } }, kind: 'target' | 'source') {
  return stepGeometry(type, {})
    .handles.filter((handle) => handle.type === kind)
    .map((handle) => ({
      id: handle.id,
      x: handle.x + (handle.width ?? 0) / 2,
      y: handle.y + (handle.height ?? 0) / 2,
    }));
}

describe('step node layout', () => {
  it('gives each of several inputs its own place, where StepNode draws its handle', () => {
    const layout = stepLayout(joinType, {});
    const inputs = handleCentres(joinType, 'target');
    expect(inputs.map((input) => input.id)).toEqual(['left', 'right', 'extra']);
    // StepNode sets each input handle's `top` from the layout; the border shifts it by 1 px.
    expect(inputs.map((input) => input.y)).toEqual(layout.inputs.map((port) => port.top + 1));
    expect(new Set(inputs.map((input) => input.y)).size).toBe(3);
    for (const input of inputs) {
      expect(input.x).toBe(1);
      expect(input.y).toBeGreaterThan(0);
      expect(input.y).toBeLessThan(stepGeometry(joinType, {}).height);
    }
    expect(layout.labelledInputs).toBe(true);
  });

  it('stacks several outputs the same way, and keeps a single port at the head', () => {
    const outputs = handleCentres(branchType, 'source');
    const layout = stepLayout(branchType, {});
    expect(outputs.map((output) => output.y)).toEqual(layout.outputs.map((port) => port.top + 1));
    expect(new Set(outputs.map((output) => output.y)).size).toBe(3);
    expect(outputs.every((output) => output.x === layout.width - 1)).toBe(true);
    // The one input faces the head, above the labelled output rows.
    const [input] = handleCentres(branchType, 'target');
    expect(input?.y).toBe((layout.inputs[0]?.top ?? NaN) + 1);
    expect(input?.y).toBeLessThan(outputs[0]?.y ?? NaN);
    expect(layout.labelledInputs).toBe(false);
  });

  it('rows of inputs and outputs share the space under the head', () => {
    const both = { ports: { in: ['a', 'b'], out: ['x', 'y', 'z'] } };
    const layout = stepLayout(both, {});
    expect(layout.inputs.map((port) => port.top)).toEqual(layout.outputs.slice(0, 2).map((port) => port.top));
    // Three rows, not five: the node is as tall as its longer side.
    expect(stepGeometry(both, {}).height).toBe(stepGeometry(branchType, {}).height);
    expect(stepGeometry({ ports: { in: ['in'], out: ['out'] } }, {}).height).toBeLessThan(
      stepGeometry(both, {}).height,
    );
  });

  it('gives a switch one labelled handle per case besides its fixed ports, following its config', () => {
    // The real definition, so the test fails if the switch stops naming its ports by config.
    const { in: inputs, out, outFromConfig } = branchSwitch.ports;
    const switchType = { ports: { in: [...inputs], out: [...out], ...(outFromConfig && { outFromConfig }) } };
    const cases = [
      { port: 'refund', when: 'true' },
      { port: 'escalate', when: 'true' },
    ];
    const layout = stepLayout(switchType, { cases });
    expect(layout.outputs.map((port) => port.id)).toEqual(['default', 'error', 'refund', 'escalate']);
    expect(layout.labelledOutputs).toBe(true);
    const sources = stepGeometry(switchType, { cases }).handles.filter((handle) => handle.type === 'source');
    expect(sources.map((handle) => handle.id)).toEqual(['default', 'error', 'refund', 'escalate']);
    expect(new Set(sources.map((handle) => handle.y)).size).toBe(4);
    // A third case makes the node one row taller.
    const more = stepGeometry(switchType, { cases: [...cases, { port: 'fraud', when: 'true' }] });
    expect(more.height).toBeGreaterThan(stepGeometry(switchType, { cases }).height);
  });

  it('draws an unknown type with one input and one output', () => {
    expect(stepGeometry(undefined, {}).handles.map((handle) => `${handle.type}:${handle.id}`)).toEqual([
      'target:in',
      'source:out',
    ]);
  });
});
