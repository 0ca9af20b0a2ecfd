// Canvas decorations: the version diff as a provider, and how the canvas reads providers.
import { describe, expect, it } from 'vitest';
import { diffWorkflows, type Workflow } from '../../engine/api/index.js';
import { edgeClasses, nodeDecorations, type DecorationProvider } from '../../renderer/src/editor/decorations.js';
import { diffDecorations } from '../../renderer/src/editor/diff-decorations.js';
import { chain, edge, node } from '../support/harness.js';

function view(before: Workflow, after: Workflow) {
  return { from: 1, to: 2 as const, before, after, diff: diffWorkflows(before, after) };
}

describe('the diff decoration provider', () => {
  const before = chain('w', [node('a', 'code', { code: 'return 1;' }), node('gone', 'code', { code: 'return 2;' })]);
  const after: Workflow = {
    ...before,
    nodes: [
      ...before.nodes
        .filter((item) => item.id !== 'gone')
        .map((item) =>
          item.id === 'a'
            ? { ...item, config: { code: 'return 3;' } }
            : item.id === 'start'
              ? { ...item, position: { x: 5, y: 5 } }
              : item,
        ),
      { id: 'new', type: 'code', typeVersion: 1, position: { x: 0, y: 200 }, config: { code: 'return 4;' } },
    ],
    edges: [edge('start', 'a'), edge('a', 'end'), edge('a', 'new')],
  };
  const provider = diffDecorations(view(before, after));

  it('marks added, changed (naming the fields), moved and removed nodes', () => {
    expect(provider.kind).toBe('diff');
    expect(provider.nodes.get('new')?.status).toBe('added');
    expect(provider.nodes.get('a')).toEqual({ status: 'changed', tooltip: 'Changed: config.code' });
    expect(provider.nodes.get('start')?.status).toBe('moved');
    expect(provider.nodes.get('gone')?.status).toBe('removed');
    expect(provider.nodes.has('end')).toBe(false);
  });

  it('draws removed nodes and connections as ghosts', () => {
    expect(provider.ghosts?.nodes.map((item) => item.id)).toEqual(['gone']);
    expect(provider.ghosts?.edges.map((item) => `${item.source}->${item.target}`)).toEqual(['a->gone', 'gone->end']);
    expect(edgeClasses([provider], 'a-out-new')).toBe('diff-added');
    expect(edgeClasses([provider], 'a-out-gone')).toBe('diff-removed');
    expect(edgeClasses([provider], 'start-out-a')).toBeUndefined();
  });

  it('draws no ghost for a removed connection whose id the newer graph reuses', () => {
    const rewired: Workflow = { ...before, edges: before.edges.map((item) => ({ ...item, targetHandle: 'other' })) };
    const ghosts = diffDecorations(view(before, rewired)).ghosts;
    expect(ghosts?.edges).toEqual([]);
  });
});

describe('decorations on the canvas', () => {
  it('gathers a node’s decorations from every provider, in order, with their kind', () => {
    const run: DecorationProvider = {
      kind: 'run',
      nodes: new Map([['a', { status: 'failed', badge: '×3', error: 'HTTP 503' }]]),
    };
    const diff = diffDecorations(view(chain('w', [node('a', 'code')]), chain('w', [node('a', 'code', { x: 1 })])));
    expect(nodeDecorations([diff, run], 'a')).toEqual([
      { kind: 'diff', status: 'changed', tooltip: 'Changed: config.x' },
      { kind: 'run', status: 'failed', badge: '×3', error: 'HTTP 503' },
    ]);
    expect(nodeDecorations([diff, run], 'start')).toEqual([]);
  });
});
