import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { validateWorkflow, validateWorkflowText, type Problem } from '../../engine/validate/index.js';
import { chain, edge, node, workflow } from '../support/harness.js';

const registry = defaultRegistry();
const messages = (problems: Problem[]) => problems.map((problem) => problem.message);

describe('workflow validation', () => {
  it('accepts a valid workflow', () => {
    const result = validateWorkflow(chain('ok', [node('a', 'code', { code: 'return 1' })]), registry);
    expect(result.ok).toBe(true);
    expect(result.problems).toEqual([]);
  });

  it('reports malformed JSON with the parser message', () => {
    const result = validateWorkflowText('{ "format": ', registry);
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.code).toBe('workflow.json');
    expect(result.problems[0]?.message).toMatch(/not valid JSON/);
  });

  it('names the node and field of a structural error', () => {
    const bad = chain('x', [node('a', 'code', { code: 'return 1' })]) as unknown as {
      nodes: Record<string, unknown>[];
    };
    (bad.nodes[1] as Record<string, unknown>).position = { x: 'left', y: 0 };
    const result = validateWorkflow(bad, registry);
    expect(result.ok).toBe(false);
    expect(messages(result.problems)).toEqual([expect.stringMatching(/^node "a" \(nodes\[1\]\)\.position\.x: /)]);
    expect(result.problems[0]?.nodeId).toBe('a');
  });

  it('rejects a wrong format tag', () => {
    const result = validateWorkflow({ ...chain('x', []), format: 'other@2' }, registry);
    expect(messages(result.problems)).toContain('format must be "stepwise/workflow@1"');
  });

  it('reports unknown node types and unknown type versions', () => {
    const result = validateWorkflow(
      chain('x', [node('a', 'teleport'), node('b', 'code', { code: 'return 1' }, { typeVersion: 9 })]),
      registry,
    );
    expect(messages(result.problems)).toEqual(
      expect.arrayContaining([
        'node "a": unknown node type "teleport"',
        'node "b": code has no typeVersion 9 (known: 1)',
      ]),
    );
  });

  it('reports missing required config, bad values and unknown fields by field', () => {
    const result = validateWorkflow(
      chain('x', [
        node('c', 'code', {}),
        node('h', 'http.request', { url: 'ftp://nope', method: 'BREW' }),
        node('t', 'wait.timer', { duration: 'soon' }),
        node('f', 'fail', { mesage: 'typo' }),
      ]),
      registry,
    );
    const byField = result.problems.map((problem) => `${problem.nodeId}:${problem.field}`);
    expect(byField).toEqual(expect.arrayContaining(['c:code', 'h:url', 'h:method', 't:duration', 'f:mesage']));
    // A required field keeps its schema's own hint; a wrong type would say what was expected instead.
    expect(messages(result.problems)).toContain(
      'node "c" (code) config.code: is required (a JavaScript function body)',
    );
    expect(messages(result.problems)).toContain(
      'node "h" (http.request) config.method: expected one of "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", got "BREW"',
    );
    expect(messages(result.problems)).toContain('node "f" (fail) config.mesage: unknown field');
    expect(messages(result.problems)).toContain(
      'node "t" (wait.timer) config.duration: "soon" is not a duration (e.g. "500ms", "2h", "3d")',
    );
  });

  it('reports a syntax error in code with its line', () => {
    const result = validateWorkflow(chain('x', [node('c', 'code', { code: 'const a = 1;\nreturn a +;' })]), registry);
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.message).toMatch(/^node "c" \(code\) config\.code: syntax error \(line 2\)/);
  });

  it('reports duplicate ids, missing nodes and unknown ports on edges', () => {
    const wf = workflow(
      'x',
      [
        node('start', 'trigger.manual'),
        node('a', 'branch.if', { condition: 'true' }),
        node('b', 'output'),
        node('b', 'output'),
      ],
      [
        edge('start', 'a'),
        edge('a:maybe', 'b'),
        edge('a:true', 'ghost'),
        edge('start', 'b:side'),
        { ...edge('a:false', 'b'), id: 'start-out-a' },
      ],
    );
    const result = validateWorkflow(wf, registry);
    expect(messages(result.problems)).toEqual([
      'node id "b" is used twice',
      'edge id "start-out-a" is used twice',
      'edge "a-maybe-b": node "a" (branch.if) has no output port "maybe" (ports: "true", "false")',
      'edge "a-true-ghost": target node "ghost" does not exist',
      'edge "start-out-b-side": node "b" (output) has no input port "side" (ports: "in")',
    ]);
    expect(result.problems.find((problem) => problem.code === 'edge.missing-node')?.edgeId).toBe('a-true-ghost');
  });

  it('refuses cycles and names them', () => {
    const wf = workflow(
      'loop',
      [
        node('start', 'trigger.manual'),
        node('a', 'code', { code: 'return 1' }),
        node('b', 'code', { code: 'return 2' }),
      ],
      [edge('start', 'a'), edge('a', 'b'), edge('b', 'a')],
    );
    const result = validateWorkflow(wf, registry);
    expect(result.ok).toBe(false);
    expect(messages(result.problems)).toContain('cycle: a → b → a (this format allows no cycles)');
  });

  it('requires one manual trigger and warns about unreachable nodes', () => {
    const noTrigger = validateWorkflow(workflow('x', [node('a', 'output')], []), registry);
    expect(noTrigger.problems.map((problem) => problem.code)).toContain('graph.no-trigger');
    const island = validateWorkflow(
      workflow('x', [node('start', 'trigger.manual'), node('lonely', 'code', { code: 'return 1' })], []),
      registry,
    );
    expect(island.ok).toBe(true);
    expect(island.problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'node.unreachable', nodeId: 'lonely' }),
    ]);
    const twoTriggers = validateWorkflow(
      workflow('x', [node('s1', 'trigger.manual'), node('s2', 'trigger.manual')], []),
      registry,
    );
    expect(twoTriggers.problems.map((problem) => problem.code)).toContain('graph.many-manual-triggers');
  });
});
