// The run dialog's input in Monaco (JSON), loaded on first use. Uncontrolled: the dialog remounts
// it (a new key) to put a remembered input in; Ctrl/Cmd+Enter inside it runs, as in the dialog.
import Editor from '@monaco-editor/react';
import { useEffect, useRef } from 'react';
import { useMonacoTheme } from '../ui/useColorScheme.js';
import { monaco } from './inspector/monaco-setup.js';

export default function RunInputEditor(props: {
  workflowId: string;
  /** Changes with each remount, so a new model is made for the new text. */
  generation: number;
  defaultValue: string;
  onChange: (text: string) => void;
  onSubmit: () => void;
}) {
  const theme = useMonacoTheme();
  // Monaco keeps the first command callback it is given: route it through a ref to the latest.
  const submit = useRef(props.onSubmit);
  useEffect(() => {
    submit.current = props.onSubmit;
  }, [props.onSubmit]);
  return (
    <div className="run-input-editor nokey nodrag nowheel" data-testid="run-input">
      <Editor
        height={220}
        language="json"
        defaultValue={props.defaultValue}
        path={`inmemory://stepwise/run-input/${encodeURIComponent(props.workflowId)}-${props.generation}.json`}
        theme={theme}
        options={{
          minimap: { enabled: false },
          lineNumbers: 'on',
          scrollBeyondLastLine: false,
          fontSize: 13,
          tabSize: 2,
          automaticLayout: true,
          ariaLabel: 'Run input (JSON)',
          fixedOverflowWidgets: true,
        }}
        onMount={(editor) => {
          editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => submit.current());
          editor.focus();
          const model = editor.getModel();
          if (model) editor.setSelection(model.getFullModelRange());
        }}
        onChange={(text) => props.onChange(text ?? '')}
      />
    </div>
  );
}
