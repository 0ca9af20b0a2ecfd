// Monaco for one config field, loaded on first use. Monaco is uncontrolled: it is remounted only
// when the value changes from outside (undo, restore), recognised as a value other than the last
// one this field stored.
import { lazy, Suspense, useState } from 'react';
import type { CheckMode } from './code-checking.js';
import type { MonacoLanguage } from './MonacoField.js';

const MonacoField = lazy(() => import('./MonacoField.js'));

export function MonacoText(props: {
  id: string;
  text: string;
  language: MonacoLanguage;
  /** JavaScript only: the ambient declarations its TypeScript checking uses. */
  declarations?: string;
  /** JavaScript only: checked as a function body or as an expression. */
  check?: CheckMode;
  height: number;
  ariaLabel: string;
  /** Stores the typed text; returns the text form of what was stored, or null when nothing was. */
  onText: (text: string) => string | null;
}) {
  const [stored, setStored] = useState(props.text);
  const [generation, setGeneration] = useState(0);
  if (props.text !== stored) {
    setStored(props.text);
    setGeneration(generation + 1);
  }
  return (
    <Suspense
      fallback={
        <div className="monaco-loading" style={{ height: props.height }}>
          Loading editor…
        </div>
      }
    >
      <MonacoField
        key={generation}
        id={props.id}
        language={props.language}
        {...(props.declarations !== undefined && { declarations: props.declarations })}
        {...(props.check !== undefined && { check: props.check })}
        defaultValue={props.text}
        height={props.height}
        ariaLabel={props.ariaLabel}
        onChange={(text) => {
          const now = props.onText(text);
          if (now !== null) setStored(now);
        }}
      />
    </Suspense>
  );
}
