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

// Code and expressions are checked as JavaScript (checkJs) against what the sandbox has: the
// ES2022 library, no DOM and no Node (no `window`, `fetch`, `require`, `process`), plus the
// declarations of `input`, `console` and the helpers that each editor sets (SANDBOX_DECLARATIONS).
// Monaco's own diagnostics are off: a field is a function body, checked wrapped (code-checking.ts).
// Advisory: the server's syntax check stays the gate.
monaco.typescript.javascriptDefaults.setDiagnosticsOptions({ noSemanticValidation: true, noSyntaxValidation: true });
monaco.typescript.javascriptDefaults.setCompilerOptions({
  allowNonTsExtensions: true,
  allowJs: true,
  checkJs: true,
  lib: ['es2022'],
  target: monaco.typescript.ScriptTarget.ESNext,
});

/** The one ambient declaration file: the editor in view sets its node's (one inspector at a time). */
const SANDBOX_DECLARATIONS = 'inmemory://stepwise/sandbox.d.ts';

export function setSandboxDeclarations(content: string): void {
  monaco.typescript.javascriptDefaults.setExtraLibs([{ content, filePath: SANDBOX_DECLARATIONS }]);
}

loader.config({ monaco });

export { monaco };
