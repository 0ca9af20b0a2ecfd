// A code / expression / JSON field in Monaco. Uncontrolled (defaultValue) so fast typing is never
// dropped; each change is reported with the model's text. JSON is reported only when it parses.
import Editor, { type OnMount } from '@monaco-editor/react';
import { useRef, useState } from 'react';
import { useMonacoTheme } from '../../ui/useColorScheme.js';
import { monaco } from './monaco-setup.js';

export type MonacoLanguage = 'javascript' | 'json';

export default function MonacoField(props: {
  id: string;
  language: MonacoLanguage;
  defaultValue: string;
  height: number;
  ariaLabel: string;
  onChange: (text: string) => void;
}) {
  const [markers, setMarkers] = useState<string[]>([]);
  const editorRef = useRef<Parameters<OnMount>[0] | null>(null);
  const theme = useMonacoTheme();
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
        }}
        onChange={(text) => props.onChange(text ?? '')}
        onValidate={(found) =>
          setMarkers(
            found
              .filter((marker) => marker.severity === monaco.MarkerSeverity.Error)
              .map((marker) => `line ${marker.startLineNumber}: ${marker.message}`),
          )
        }
      />
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
