// The palette: node types grouped by category, with search. Drag one onto the canvas, or press
// Enter / click to add it next to the selection.
import { useMemo, useState, type RefObject } from 'react';
import type { NodeType } from '../../../engine/api/index.js';
import { Icon } from '../ui/Icon.js';
import { NODE_TYPE_MIME } from './Canvas.js';
import { useEditor } from './editor-context.js';

const CATEGORY_ORDER = ['Triggers', 'Logic', 'Data', 'Network', 'Human', 'Flow'];

export function Palette({
  onAdd,
  searchRef,
}: {
  onAdd: (type: NodeType) => void;
  searchRef: RefObject<HTMLInputElement | null>;
}) {
  const { catalog } = useEditor();
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const needle = query.trim().toLowerCase();
    const matches = catalog.list.filter(
      (type) =>
        type.latest &&
        (needle === '' ||
          type.title.toLowerCase().includes(needle) ||
          type.type.toLowerCase().includes(needle) ||
          type.description.toLowerCase().includes(needle)),
    );
    const categories = [...new Set(matches.map((type) => type.category))].sort(
      (a, b) => rank(a) - rank(b) || a.localeCompare(b),
    );
    return categories.map((category) => ({ category, types: matches.filter((type) => type.category === category) }));
  }, [catalog, query]);

  return (
    <aside className="palette" aria-label="Node palette">
      <div className="palette-search">
        <Icon name="search" />
        <input
          ref={searchRef}
          placeholder="Search nodes (Tab)"
          value={query}
          aria-label="Search nodes"
          onChange={(event) => setQuery(event.target.value)}
          onKeyDown={(event) => {
            const first = groups[0]?.types[0];
            if (event.key === 'Enter' && first) onAdd(first);
            if (event.key === 'Escape') {
              setQuery('');
              event.currentTarget.blur();
            }
          }}
        />
      </div>
      {groups.map(({ category, types }) => (
        <section key={category} className="palette-group">
          <h3>{category}</h3>
          {types.map((type) => (
            <div
              key={`${type.type}@${type.typeVersion}`}
              className="palette-item"
              draggable
              role="button"
              tabIndex={0}
              title={type.description}
              data-testid={`palette-${type.type}`}
              onDragStart={(event) => {
                event.dataTransfer.setData(NODE_TYPE_MIME, `${type.type}@${type.typeVersion}`);
                event.dataTransfer.effectAllowed = 'move';
              }}
              onDoubleClick={() => onAdd(type)}
              onKeyDown={(event) => {
                if (event.key === 'Enter') onAdd(type);
              }}
            >
              <span className={`step-icon cat-${type.category.toLowerCase()}`}>
                <Icon name={type.icon} />
              </span>
              <span className="palette-title">{type.title}</span>
            </div>
          ))}
        </section>
      ))}
      {groups.length === 0 && <p className="muted">No node type matches “{query}”.</p>}
    </aside>
  );
}

function rank(category: string): number {
  const index = CATEGORY_ORDER.indexOf(category);
  return index === -1 ? CATEGORY_ORDER.length : index;
}
