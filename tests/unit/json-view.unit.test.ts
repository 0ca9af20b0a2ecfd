// JsonView's text contract: the test-id element's textContent is exactly
// JSON.stringify(value, null, 2), however much is folded (folding is CSS, never text).
import { createElement, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { foldedByDefault, LARGE_TEXT, textAt } from '../../renderer/src/ui/json-fold.js';

interface JsonViewProps {
  value: unknown;
  testId?: string;
  label?: string;
}
// A .tsx module: loaded at run time (vitest compiles it) so the Node-side typecheck does not
// follow it into JSX; the props type above is the component's.
const jsonViewModule = '../../renderer/src/ui/JsonView.tsx';
const { JsonView } = (await import(/* @vite-ignore */ jsonViewModule)) as {
  JsonView: (props: JsonViewProps) => ReactElement;
};

/** textContent of the element carrying data-testid="json", from the static markup. */
function textOf(value: unknown): string {
  const html = renderToStaticMarkup(createElement(JsonView, { value, testId: 'json', label: 'Output' }));
  const match = /<pre[^>]*data-testid="json"[^>]*>([\s\S]*)<\/pre>/.exec(html);
  if (!match) throw new Error(`no test-id element in ${html.slice(0, 200)}`);
  const inner = match[1] ?? '';
  return inner
    .replace(/<[^>]*>/g, '')
    .replaceAll('&quot;', '"')
    .replaceAll('&#x27;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

const deep = { a: { b: { c: { d: { e: [1, 2, { f: 'g' }] } } } }, list: [[[[['x']]]]] };

describe('JsonView text', () => {
  it.each([
    ['a number', 42],
    ['a string with quotes and <tags> & newlines', 'say "hi"\n<b>&amp;</b>'],
    ['null', null],
    ['booleans', [true, false]],
    ['empty containers', { a: {}, b: [], c: [{}] }],
    ['a deep value (folded below depth 3)', deep],
    ['keys that need escaping', { 'a"b': 1, 'new\nline': { '': 2 }, '10': 3, '2': 4 }],
    ['a long string (clipped on screen only)', { text: 'x'.repeat(5000) }],
    ['numbers', [0, -1.5, 1e21, 3.14159, -0]],
  ])('is exactly JSON.stringify for %s', (_name, value) => {
    expect(textOf(value)).toBe(JSON.stringify(value, null, 2));
  });

  it('is empty for undefined and drops undefined members as JSON does', () => {
    expect(textOf(undefined)).toBe('');
    const value = { a: undefined, b: [undefined, 1], c: new Date(0) };
    expect(textOf(value)).toBe(JSON.stringify(value, null, 2));
  });

  it('keeps the text of a large value folded at depth 1, and renders it fast', () => {
    const big = {
      rows: Array.from({ length: 8000 }, (_, i) => ({ id: i, name: `row ${i}`, tags: ['a', 'b'], nested: { i } })),
      meta: { count: 8000 },
    };
    const text = JSON.stringify(big, null, 2);
    expect(text.length).toBeGreaterThan(1024 * 1024);
    const started = performance.now();
    const html = renderToStaticMarkup(createElement(JsonView, { value: big, testId: 'json' }));
    expect(performance.now() - started).toBeLessThan(2000);
    // Folded parts are one text node each: a handful of elements, not one per value.
    expect(html.split('<span').length).toBeLessThan(100);
    expect(textOf(big)).toBe(text);
  });

  it('marks folds with CSS classes and buttons without text', () => {
    const html = renderToStaticMarkup(createElement(JsonView, { value: deep, testId: 'json' }));
    expect(html).toContain('jv-folded');
    expect(html).toMatch(/<button[^>]*class="jv-toggle"[^>]*aria-expanded="false"[^>]*><\/button>/);
  });
});

describe('folding rules', () => {
  it('folds below depth 3, or below the top level for a large value, or a huge container', () => {
    expect(foldedByDefault({ a: 1 }, 2, 100)).toBe(false);
    expect(foldedByDefault({ a: 1 }, 3, 100)).toBe(true);
    expect(foldedByDefault({ a: 1 }, 1, LARGE_TEXT + 1)).toBe(true);
    expect(foldedByDefault({ a: 1 }, 0, LARGE_TEXT + 1)).toBe(false);
    expect(
      foldedByDefault(
        Array.from({ length: 501 }, () => 0),
        0,
        10,
      ),
    ).toBe(true);
  });

  it('indents nested text like JSON.stringify does', () => {
    const value = { x: [1, { y: 2 }] };
    const outer = JSON.stringify({ v: value }, null, 2);
    expect(outer).toContain(textAt(value, 1));
  });
});
