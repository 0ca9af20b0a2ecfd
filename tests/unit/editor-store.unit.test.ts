// Canvas edits as plain data: the pure edit functions and the editor store's undo/redo.
import { describe, expect, it } from 'vitest';
import { describeNodeTypes } from '../../engine/host/service.js';
import { Engine } from '../../engine/runtime/engine.js';
import { createEditorStore } from '../../renderer/src/editor/editor-store.js';
import {
  applyEdit,
  connectionProblem,
  copySelection,
  freshNodeId,
  newNode,
  pasteClip,
} from '../../renderer/src/editor/graph-edits.js';
import { createCatalog } from '../../renderer/src/editor/catalog.js';
import { chain, node, refundFlow } from '../support/harness.js';

const engine = Engine.open({ dbPath: ':memory:' });
const catalog = createCatalog(describeNodeTypes(engine));

describe('graph edits', () => {
  it('removing a node removes the edges that touch it, and nothing else', () => {
    const graph = chain('c', [node('a', 'code', { code: 'return 1;' }), node('b', 'code', { code: 'return 2;' })]);
    const after = applyEdit(graph, { type: 'remove', nodeIds: ['a'], edgeIds: [] });
    expect(after.nodes.map((item) => item.id)).toEqual(['start', 'b', 'end']);
    expect(after.edges.map((item) => `${item.source}->${item.target}`)).toEqual(['b->end']);
    expect(graph.nodes).toHaveLength(4); // the input graph is untouched
  });

  it('set-config with undefined removes the field so the default applies', () => {
    const graph = chain('c', [node('a', 'code', { code: 'return 1;', timeoutMs: 10 })]);
    const after = applyEdit(graph, { type: 'set-config', nodeId: 'a', field: 'timeoutMs', value: undefined });
    expect(after.nodes[1]?.config).toEqual({ code: 'return 1;' });
  });

  it("update-node sets a node's start-to-close limit; undefined removes it so the type's default applies", () => {
    const graph = chain('c', [node('a', 'code', { code: 'return 1;' })]);
    const limited = applyEdit(graph, { type: 'update-node', nodeId: 'a', patch: { timeoutMs: 2500 } });
    expect(limited.nodes[1]?.timeoutMs).toBe(2500);
    const cleared = applyEdit(limited, { type: 'update-node', nodeId: 'a', patch: { timeoutMs: undefined } });
    expect('timeoutMs' in (cleared.nodes[1] ?? {})).toBe(false);
  });

  it('refuses connections with a reason: cycle, self, missing port, duplicate, input-less target', () => {
    const graph = chain('c', [node('a', 'code', { code: 'return 1;' }), node('b', 'code', { code: 'return 2;' })]);
    const problem = (source: string, sourceHandle: string, target: string, targetHandle = 'in') =>
      connectionProblem(graph, catalog.of, { source, sourceHandle, target, targetHandle });
    expect(problem('b', 'out', 'a')).toMatch(/would make a cycle/);
    expect(problem('a', 'out', 'a')).toMatch(/cannot connect to itself/);
    expect(problem('a', 'nope', 'b')).toMatch(/has no output "nope"/);
    expect(problem('start', 'out', 'a')).toMatch(/already connected/);
    expect(problem('a', 'error', 'start')).toMatch(/takes no input/);
    expect(problem('a', 'error', 'end')).toBeNull();
  });

  it('paste gives fresh ids and keeps only the edges inside the clip', () => {
    const graph = chain('c', [node('a', 'code', { code: 'return 1;' }), node('b', 'code', { code: 'return 2;' })]);
    const clip = copySelection(graph, ['a', 'b']);
    expect(clip.edges.map((item) => `${item.source}->${item.target}`)).toEqual(['a->b']);
    const pasted = pasteClip(graph, clip, { x: 40, y: 40 });
    expect(pasted.nodes.map((item) => item.id)).toEqual(['a-2', 'b-2']);
    expect(pasted.edges).toEqual([
      expect.objectContaining({ source: 'a-2', target: 'b-2', sourceHandle: 'out', targetHandle: 'in' }),
    ]);
    expect(pasted.nodes[0]?.position).toEqual({ x: (graph.nodes[1]?.position.x ?? 0) + 40, y: 40 });
  });

  it('new nodes get unique, valid ids and names', () => {
    const http = catalog.latest('http.request');
    if (!http) throw new Error('http.request is not registered');
    let graph = refundFlow();
    const first = newNode(graph, http, { x: 0, y: 0 });
    graph = applyEdit(graph, { type: 'add', nodes: [first], edges: [] });
    const second = newNode(graph, http, { x: 0, y: 0 });
    expect([first.id, second.id]).toEqual(['http-request', 'http-request-2']);
    expect([first.name, second.name]).toEqual(['HTTP request', 'HTTP request 2']);
    expect(freshNodeId(new Set(), '  Ünïcode!! ')).toBe('n-code');
  });
});

describe('editor store', () => {
  it('undoes and redoes every edit; a drag is one undo step; typing in one field is one step', () => {
    const store = createEditorStore(chain('c', [node('a', 'code', { code: 'return 1;' })]));
    const { apply, beginGesture, endGesture, undo, redo } = store.getState();
    const original = store.getState().graph;

    beginGesture();
    for (let x = 1; x <= 5; x += 1) apply({ type: 'move', positions: { a: { x: x * 10, y: 0 } } });
    endGesture();
    const moved = store.getState().graph;
    for (const text of ['r', 're', 'ret'])
      apply({ type: 'set-config', nodeId: 'a', field: 'code', value: text }, { coalesce: 'a.code' });
    apply({ type: 'remove', nodeIds: ['a'], edgeIds: [] });
    expect(store.getState().past).toHaveLength(3);

    undo();
    expect(store.getState().graph.nodes.find((item) => item.id === 'a')?.config.code).toBe('ret');
    undo();
    expect(store.getState().graph).toBe(moved);
    undo();
    expect(store.getState().graph).toBe(original);
    undo(); // nothing left: no change
    expect(store.getState().graph).toBe(original);
    redo();
    redo();
    redo();
    expect(store.getState().graph.nodes.map((item) => item.id)).toEqual(['start', 'end']);
    expect(store.getState().future).toHaveLength(0);
  });

  it('a new edit after undo drops the redo stack; selection of removed nodes is pruned', () => {
    const store = createEditorStore(chain('c', [node('a', 'code', { code: 'return 1;' })]));
    const state = () => store.getState();
    state().select(['a'], []);
    state().apply({ type: 'rename-workflow', name: 'One' });
    state().undo();
    expect(state().future).toHaveLength(1);
    state().apply({ type: 'remove', nodeIds: ['a'], edgeIds: [] });
    expect(state().future).toHaveLength(0);
    expect(state().selectedNodes).toEqual([]);
    expect(state().revision).toBe(3);
  });
});
