// A JSON value, pretty-printed, foldable, with copy. Contract: the element with `testId` has as
// textContent exactly JSON.stringify(value, null, 2) ('' for undefined), whatever is folded:
// folded parts are hidden with CSS and their "…" is drawn by CSS, so tests, the clipboard and a
// text selection all read the same text. A folded part is one plain text node (not a tree), which
// is what keeps a 1 MiB value cheap to render.
import { useCallback, useMemo, useState, type ReactNode } from 'react';
import {
  entriesOf,
  foldedByDefault,
  indent,
  isContainer,
  LONG_STRING,
  pathKey,
  textAt,
  type JsonContainer,
} from './json-fold.js';
import './json-view.css';

interface Folding {
  textLength: number;
  isFolded: (path: readonly string[], value: JsonContainer, depth: number) => boolean;
  toggle: (path: readonly string[], folded: boolean) => void;
}

export function JsonView({ value, testId, label }: { value: unknown; testId?: string; label?: string }) {
  const text = useMemo(() => (value === undefined ? '' : (JSON.stringify(value, null, 2) ?? '')), [value]);
  // Render what the text says (undefined members dropped, toJSON applied), so tree and text agree.
  const data = useMemo<unknown>(() => (text === '' ? undefined : JSON.parse(text)), [text]);
  const [overrides, setOverrides] = useState<ReadonlyMap<string, boolean>>(new Map());
  const folding = useMemo<Folding>(
    () => ({
      textLength: text.length,
      isFolded: (path, node, depth) => overrides.get(pathKey(path)) ?? foldedByDefault(node, depth, text.length),
      toggle: (path, folded) => setOverrides((current) => new Map(current).set(pathKey(path), !folded)),
    }),
    [overrides, text.length],
  );
  return (
    <div className="json-view" role="group" aria-label={label}>
      <div className="json-view-tools">
        {label !== undefined && <span className="json-view-label">{label}</span>}
        <CopyButton text={text} label={label} />
      </div>
      <pre className="json-view-text" data-testid={testId}>
        {data === undefined ? null : (
          <>
            {isContainer(data) && <Toggle path={[]} value={data} depth={0} folding={folding} />}
            <Value value={data} depth={0} path={[]} folding={folding} />
          </>
        )}
      </pre>
    </div>
  );
}

function Value({
  value,
  depth,
  path,
  folding,
}: {
  value: unknown;
  depth: number;
  path: readonly string[];
  folding: Folding;
}): ReactNode {
  if (isContainer(value)) return <Container value={value} depth={depth} path={path} folding={folding} />;
  if (typeof value === 'string') return <JsonString value={value} />;
  if (typeof value === 'number') return <span className="jv-number">{JSON.stringify(value)}</span>;
  if (typeof value === 'boolean') return <span className="jv-bool">{String(value)}</span>;
  return <span className="jv-null">null</span>;
}

function Container({
  value,
  depth,
  path,
  folding,
}: {
  value: JsonContainer;
  depth: number;
  path: readonly string[];
  folding: Folding;
}) {
  const array = Array.isArray(value);
  const [open, close] = array ? ['[', ']'] : ['{', '}'];
  const entries = entriesOf(value);
  if (entries.length === 0) return <span className="jv-punct">{`${open}${close}`}</span>;
  const folded = folding.isFolded(path, value, depth);
  const count = `${entries.length} ${array ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'}`;
  return (
    <span className={folded ? 'jv-container jv-folded' : 'jv-container'}>
      <span
        className="jv-punct jv-open"
        title={folded ? `${count} folded: click to unfold` : undefined}
        onClick={folded ? () => folding.toggle(path, true) : undefined}
      >
        {open}
      </span>
      <span className="jv-body">
        {folded
          ? textAt(value, depth).slice(1, -1)
          : entries.map(([key, child], index) => {
              const childPath = [...path, key];
              return (
                <span key={key}>
                  {`\n${indent(depth + 1)}`}
                  {isContainer(child) && <Toggle path={childPath} value={child} depth={depth + 1} folding={folding} />}
                  {!array && (
                    <>
                      <span className="jv-key">{JSON.stringify(key)}</span>
                      <span className="jv-punct">: </span>
                    </>
                  )}
                  <Value value={child} depth={depth + 1} path={childPath} folding={folding} />
                  {index < entries.length - 1 && <span className="jv-punct">,</span>}
                </span>
              );
            })}
        {folded ? null : `\n${indent(depth)}`}
      </span>
      <span className="jv-punct">{close}</span>
    </span>
  );
}

/** The fold toggle: a button with no text (its arrow is CSS), so the text contract holds. */
function Toggle({
  path,
  value,
  depth,
  folding,
}: {
  path: readonly string[];
  value: JsonContainer;
  depth: number;
  folding: Folding;
}) {
  if (entriesOf(value).length === 0) return null;
  const folded = folding.isFolded(path, value, depth);
  const name = path.length === 0 ? 'value' : path.join('.');
  return (
    <button
      type="button"
      className="jv-toggle"
      aria-expanded={!folded}
      aria-label={`${folded ? 'Unfold' : 'Fold'} ${name}`}
      onClick={() => folding.toggle(path, folded)}
    />
  );
}

function JsonString({ value }: { value: string }) {
  const [expanded, setExpanded] = useState(false);
  const text = JSON.stringify(value);
  if (text.length <= LONG_STRING) return <span className="jv-string">{text}</span>;
  return (
    <span
      className={expanded ? 'jv-string jv-long jv-expanded' : 'jv-string jv-long'}
      title={expanded ? 'Click to clip' : `${value.length} characters: click to show all`}
      onClick={() => setExpanded((current) => !current)}
    >
      {text}
    </span>
  );
}

function CopyButton({ text, label }: { text: string; label: string | undefined }) {
  const [copied, setCopied] = useState(false);
  const copy = useCallback(async () => {
    await copyText(text);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  }, [text]);
  return (
    <button
      type="button"
      className="json-view-copy"
      aria-label={label === undefined ? 'Copy JSON' : `Copy ${label}`}
      onClick={() => void copy()}
      disabled={text === ''}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

/** The async clipboard where allowed (secure context, permission), else the old selection copy. */
async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Not a secure context, or permission denied: fall through to execCommand.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}
