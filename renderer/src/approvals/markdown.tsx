// A small Markdown renderer for approval instructions: paragraphs, bullet and numbered lists,
// **bold**, *em*, `code` and links to http(s) only. It builds React elements (never HTML text), so
// whatever a workflow author wrote cannot inject markup or script into the approver's page.
import { Fragment, type ReactNode } from 'react';

type Block = { kind: 'p'; lines: string[] } | { kind: 'ul' | 'ol'; items: string[] };

const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;

function blocksOf(text: string): Block[] {
  const blocks: Block[] = [];
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    const last = blocks.at(-1);
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    if (line.trim() === '') {
      blocks.push({ kind: 'p', lines: [] });
    } else if (bullet || numbered) {
      const kind = bullet ? 'ul' : 'ol';
      const item = ((bullet ?? numbered) as RegExpExecArray)[1] as string;
      if (last?.kind === kind) last.items.push(item);
      else blocks.push({ kind, items: [item] });
    } else if (last?.kind === 'p') {
      last.lines.push(line.trim());
    } else if (last && /^\s+\S/.test(line)) {
      // An indented line continues the list item above it.
      last.items[last.items.length - 1] += ` ${line.trim()}`;
    } else {
      blocks.push({ kind: 'p', lines: [line.trim()] });
    }
  }
  return blocks.filter((block) => (block.kind === 'p' ? block.lines.length > 0 : true));
}

// One pass over the inline syntax; the earliest match wins, its inside is rendered again (except code).
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s][^*]*?)\*|\[([^\]]+)\]\(([^)\s]+)\)/;

function safeHref(href: string): string | null {
  try {
    const url = new URL(href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function renderInline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let rest = text;
  let key = 0;
  for (let match = INLINE.exec(rest); match; match = INLINE.exec(rest)) {
    if (match.index > 0) out.push(rest.slice(0, match.index));
    const [whole, code, bold, em, label, href] = match;
    if (code !== undefined) out.push(<code key={key++}>{code}</code>);
    else if (bold !== undefined) out.push(<strong key={key++}>{renderInline(bold)}</strong>);
    else if (em !== undefined) out.push(<em key={key++}>{renderInline(em)}</em>);
    else {
      const safe = safeHref(href as string);
      out.push(
        safe === null ? (
          // Not http(s) (javascript:, data:, a relative path): the label alone, never a link.
          <Fragment key={key++}>{renderInline(label as string)}</Fragment>
        ) : (
          <a key={key++} href={safe} target="_blank" rel="noopener noreferrer">
            {renderInline(label as string)}
          </a>
        ),
      );
    }
    rest = rest.slice(match.index + whole.length);
  }
  if (rest !== '') out.push(rest);
  return out;
}

export function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <div className={className}>
      {blocksOf(text).map((block, index) =>
        block.kind === 'p' ? (
          <p key={index}>{renderInline(block.lines.join(' '))}</p>
        ) : block.kind === 'ul' ? (
          <ul key={index}>
            {block.items.map((item, at) => (
              <li key={at}>{renderInline(item)}</li>
            ))}
          </ul>
        ) : (
          <ol key={index}>
            {block.items.map((item, at) => (
              <li key={at}>{renderInline(item)}</li>
            ))}
          </ol>
        ),
      )}
    </div>
  );
}
