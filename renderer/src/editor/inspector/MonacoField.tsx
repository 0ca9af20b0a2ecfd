// A code / expression / JSON field in Monaco. Uncontrolled (defaultValue) so fast typing is never
// dropped; each change is reported with the model's text. JSON is reported only when it parses.
import Editor, { type OnMount } from '@monaco-editor/react';
import { useEffect, useRef, useState } from 'react';
import { useMonacoTheme } from '../../ui/useColorScheme.js';
import { checkModel, type CheckMode } from './code-checking.js';
import { monaco, setSandboxDeclarations } from './monaco-setup.js';

export type MonacoLanguage = 'javascript' | 'json';

export default function MonacoField(props: {
  id: string;
  language: MonacoLanguage;
  /** JavaScript only: the ambient declarations (`input`, helpers) its checking uses. */
  declarations?: string;
  /** JavaScript only: checked as a function body or as an expression. */
  check?: CheckMode;
  defaultValue: string;
  height: number;
  ariaLabel: string;
  onChange: (text: string) => void;
}) {
  const [markers, setMarkers] = useState<string[]>([]);
  // Errors and warnings (TypeScript's suggestions are not problems); null until checked.
  const [problems, setProblems] = useState<number | null>(null);
  const editorRef = useRef<Parameters<OnMount>[0] | null>(null);
  const theme = useMonacoTheme();
  const checking = useRef<ReturnType<typeof checkModel> | null>(null);
  const { declarations, check } = props;
  useEffect(() => {
    if (declarations === undefined) return;
    setSandboxDeclarations(declarations);
    checking.current?.refresh();
  }, [declarations]);
  useEffect(() => () => checking.current?.dispose(), []);
  return (
    <div className="monaco-field nokey nodrag nowheel" data-testid={`monaco-${props.id}`}>
      <Editor
        height={props.height}
        language={props.language}
        defaultValue={props.defaultValue}
        path={`inmemory://stepwise/${props.id}.${props.language === 'json' ? 'json' : 'js'}`}
        theme={theme}
        options={{
          minimap: { enabled: false },
          lineNumbers: props.height > 60 ? 'on' : 'off',
          scrollBeyondLastLine: false,
          fontSize: 13,
          tabSize: 2,
          wordWrap: 'on',
          automaticLayout: true,
          ariaLabel: props.ariaLabel,
          fixedOverflowWidgets: true,
        }}
        onMount={(editor) => {
          editorRef.current = editor;
          const model = editor.getModel();
          if (check && model) checking.current = checkModel(model, check);
        }}
        onChange={(text) => props.onChange(text ?? '')}
        onValidate={(found) => {
          setMarkers(
            found
              .filter((marker) => marker.severity === monaco.MarkerSeverity.Error)
              .map((marker) => `line ${marker.startLineNumber}: ${marker.message}`),
          );
          setProblems(found.filter((marker) => marker.severity >= monaco.MarkerSeverity.Warning).length);
        }}
      />
      {props.language === 'javascript' && problems !== null && (
        <p className="help" data-testid="code-problems" data-count={problems}>
          {problems === 0 ? 'No problems' : problems === 1 ? '1 problem' : `${problems} problems`}
        </p>
      )}
      {markers.length > 0 && (
        <ul className="field-errors" data-testid={`syntax-${props.id}`}>
          {markers.slice(0, 3).map((marker) => (
            <li key={marker}>{marker}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
