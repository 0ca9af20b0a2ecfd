// Monaco from the local monaco-editor package (never a CDN): workers bundled by Vite.
import { loader } from '@monaco-editor/react';
import * as monaco from 'monaco-editor';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import JsonWorker from 'monaco-editor/language/json/json.worker?worker';
import TsWorker from 'monaco-editor/language/typescript/ts.worker?worker';

self.MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    if (label === 'json') return new JsonWorker();
    if (label === 'typescript' || label === 'javascript') return new TsWorker();
    return new EditorWorker();
  },
};

// Syntax checks only: code runs in a sandbox with `input` as its one global, not in a browser.
monaco.typescript.javascriptDefaults.setDiagnosticsOptions({
  noSemanticValidation: true,
  noSyntaxValidation: false,
  // 1108: "A 'return' statement can only be used within a function body" — code fields are function bodies.
  diagnosticCodesToIgnore: [1108],
});
monaco.typescript.javascriptDefaults.setCompilerOptions({ allowNonTsExtensions: true, noLib: true, allowJs: true });

loader.config({ monaco });

export { monaco };
