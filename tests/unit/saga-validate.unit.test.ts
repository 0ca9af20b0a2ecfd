// The undo-edge rules of saga compensation: who offers `undo`, where the edge may go, and what the
// compensation node may not have; each problem names the nodes (and the edge).
import { describe, expect, it } from 'vitest';
import { outputPorts } from '../../engine/model/ports.js';
import { compileWorkflow } from '../../engine/orchestrator/compile.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { validateWorkflow, type Problem } from '../../engine/validate/index.js';
import { edge, node, workflow } from '../support/harness.js';

const registry = defaultRegistry();
const undoProblems = (problems: Problem[]) => problems.filter((problem) => problem.code === 'edge.undo');

const call = (id: string) => node(id, 'http.request', { method: 'POST', url: `http://127.0.0.1:1/${id}` });

/** trigger → charge → end, and charge's undo edge into refund (plus whatever the test adds). */
function saga(extraNodes: ReturnType<typeof node>[] = [], extraEdges: ReturnType<typeof edge>[] = []) {
  return workflow(
    'saga',
    [node('start', 'trigger.manual'), call('charge'), node('end', 'output'), call('refund'), ...extraNodes],
    [edge('start', 'charge'), edge('charge', 'end'), edge('charge:undo', 'refund'), ...extraEdges],
  );
}

describe('undo edges', () => {
  it('nodes with side effects offer undo; pure nodes and triggers do not', () => {
    const ports = (type: string) => outputPorts(registry.get(type, 1)?.ports ?? { in: [], out: [] }, {});
    expect(ports('http.request')).toEqual(['out', 'error', 'undo']);
    expect(ports('subworkflow')).toContain('undo');
    expect(ports('code')).not.toContain('undo');
    expect(ports('trigger.manual')).not.toContain('undo');
  });

  it('accepts a compensation, which the compiled graph keeps out of the normal flow', () => {
    const result = validateWorkflow(saga(), registry);
    expect(result.problems).toEqual([]);
    const compiled = compileWorkflow({ workflowId: 'saga', version: 1, graph: saga() }, registry);
    expect(compiled.nodes.get('charge')).toMatchObject({ undo: 'refund', compensates: null });
    expect(compiled.nodes.get('refund')).toMatchObject({ undo: null, compensates: 'charge', incoming: [] });
    expect(compiled.nodes.get('charge')?.outgoing.map((item) => item.target)).toEqual(['end']);
  });

  it('refuses undo from a pure node, saying why', () => {
    const graph = saga([node('calc', 'code', { code: 'return 1' }), call('fix')], [edge('calc:undo', 'fix')]);
    const problems = undoProblems(validateWorkflow(graph, registry).problems);
    expect(problems).toEqual([
      expect.objectContaining({
        edgeId: 'calc-undo-fix',
        message: expect.stringMatching(
          /node "calc" \(code\) has no undo port: only nodes with side effects can be compensated \(this one is pure\)/,
        ),
      }),
    ]);
  });

  it('a compensation has no other incoming edges and no outgoing edges', () => {
    const graph = saga([node('log', 'output')], [edge('start', 'refund'), edge('refund', 'log')]);
    const result = validateWorkflow(graph, registry);
    expect(result.ok).toBe(false);
    expect(undoProblems(result.problems).map((problem) => [problem.nodeId, problem.message])).toEqual([
      [
        'refund',
        'node "refund" undoes "charge" and runs only as its compensation: it cannot have other incoming edges (from "start")',
      ],
      ['refund', 'node "refund" undoes "charge": a compensation has no outgoing edges (it leads to "log")'],
    ]);
  });

  it('one node undoes a node, and a node undoes one node', () => {
    const twice = validateWorkflow(saga([call('refund2')], [edge('charge:undo', 'refund2')]), registry);
    expect(undoProblems(twice.problems).map((problem) => problem.message)).toEqual([
      'node "charge" has more than one undo edge ("refund" and "refund2"): one node undoes it',
    ]);
    const shared = validateWorkflow(
      saga([call('ship')], [edge('charge', 'ship'), edge('ship:undo', 'refund')]),
      registry,
    );
    expect(undoProblems(shared.problems).map((problem) => problem.message)).toEqual([
      'node "refund" undoes "charge" and runs only as its compensation: it cannot have other incoming edges (from "ship")',
      'node "refund" undoes "ship" and runs only as its compensation: it cannot have other incoming edges (from "charge")',
    ]);
  });

  it('an undo edge goes into a non-trigger node, through "in", and not back to itself', () => {
    const self = validateWorkflow(saga([], [edge('end:undo', 'end')]), registry);
    expect(self.ok).toBe(false);
    const loop = workflow(
      'loop',
      [node('start', 'trigger.manual'), call('charge')],
      [edge('start', 'charge'), edge('charge:undo', 'charge')],
    );
    expect(undoProblems(validateWorkflow(loop, registry).problems).map((problem) => problem.message)).toContain(
      'node "charge" cannot undo itself: draw its undo edge to another node',
    );
    const intoTrigger = workflow(
      'trig',
      [node('start', 'trigger.manual'), call('charge'), node('other', 'trigger.manual')],
      [edge('start', 'charge'), edge('charge:undo', 'other')],
    );
    expect(undoProblems(validateWorkflow(intoTrigger, registry).problems).map((problem) => problem.message)).toContain(
      'the undo edge of "charge" goes into trigger "other": a compensation cannot be a trigger',
    );
    const wrongPort = saga([node('both', 'merge')], [edge('charge:undo', 'both:b')]);
    expect(undoProblems(validateWorkflow(wrongPort, registry).problems).map((problem) => problem.message)).toContain(
      'the undo edge of "charge" must go into the "in" port of "both", not "b"',
    );
  });
});
