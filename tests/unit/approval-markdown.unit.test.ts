// The approval card's Markdown: the few constructs it knows become elements, everything else stays
// text; links go to http(s) only, and nothing a workflow author writes becomes markup.
import { createElement, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

// A .tsx module: loaded at run time (vitest compiles it) so the Node-side typecheck does not follow it.
const markdownModule = '../../renderer/src/approvals/markdown.tsx';
const { Markdown } = (await import(/* @vite-ignore */ markdownModule)) as {
  Markdown: (props: { text: string }) => ReactElement;
};

const html = (text: string) => renderToStaticMarkup(createElement(Markdown, { text }));

describe('approval instructions (Markdown)', () => {
  it('renders paragraphs, bold, em, code and lists', () => {
    expect(html('Check the **amount** and *the reason*.\nThen `refund`.\n\n- one\n- two\n\n1. first\n2. second')).toBe(
      '<div><p>Check the <strong>amount</strong> and <em>the reason</em>. Then <code>refund</code>.</p>' +
        '<ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol></div>',
    );
  });

  it('links to http(s) only; other schemes keep their label as text', () => {
    expect(html('[policy](https://example.com/p?a=1)')).toBe(
      '<div><p><a href="https://example.com/p?a=1" target="_blank" rel="noopener noreferrer">policy</a></p></div>',
    );
    expect(html('[click](javascript:alert%281%29) [x](data:text/html,hi) [rel](/local)')).toBe(
      '<div><p>click x rel</p></div>',
    );
  });

  it('never turns text into markup', () => {
    const out = html('<img src=x onerror=alert(1)> **<b>bold</b>**');
    expect(out).not.toContain('<img');
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(out).toContain('<strong>&lt;b&gt;bold&lt;/b&gt;</strong>');
  });
});
