// TypeScript checking of a code or expression field. A field holds a function body (or an
// expression), which TypeScript cannot check as a file: a top-level `return` is a grammar error
// that silences every other diagnostic of a JavaScript file. So each field's text is checked in a
// hidden twin model, wrapped as the sandbox wraps it, and the twin's diagnostics are shown on the
// field's model, shifted back by the wrapper.
import { CHECK_WRAPPERS, type CheckMode } from './input-typings.js';
import { monaco } from './monaco-setup.js';

export type { CheckMode };

const OWNER = 'stepwise-sandbox';
const DELAY_MS = 250;

function severityOf(category: 0 | 1 | 2 | 3): monaco.MarkerSeverity {
  if (category === 1) return monaco.MarkerSeverity.Error;
  if (category === 0) return monaco.MarkerSeverity.Warning;
  if (category === 2) return monaco.MarkerSeverity.Hint;
  return monaco.MarkerSeverity.Info;
}

function messageOf(text: string | monaco.typescript.Diagnostic['messageText']): string {
  if (typeof text === 'string') return text;
  return [text.messageText, ...(text.next ?? []).map((next) => messageOf(next))].join(' ');
}

/**
 * Checks `model` as a field of `mode` on every change until disposed. `refresh` checks again now
 * (the declarations changed).
 */
export function checkModel(model: monaco.editor.ITextModel, mode: CheckMode): { refresh(): void; dispose(): void } {
  const { before, after } = CHECK_WRAPPERS[mode];
  const twin = monaco.editor.createModel('', 'javascript', monaco.Uri.parse(`${model.uri.toString()}.check.js`));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  let generation = 0;

  const check = async () => {
    const text = model.getValue();
    const current = (generation += 1);
    twin.setValue(before + text + after);
    const worker = await (await monaco.typescript.getJavaScriptWorker())(twin.uri);
    const uri = twin.uri.toString();
    const diagnostics = [...(await worker.getSyntacticDiagnostics(uri)), ...(await worker.getSemanticDiagnostics(uri))];
    if (disposed || current !== generation) return;
    const markers = diagnostics.flatMap((diagnostic) => {
      if (diagnostic.start === undefined) return [];
      const start = Math.min(Math.max(diagnostic.start - before.length, 0), text.length);
      const end = Math.min(Math.max(start + (diagnostic.length ?? 0), start), text.length);
      const from = model.getPositionAt(start);
      const to = model.getPositionAt(end);
      return [
        {
          severity: severityOf(diagnostic.category),
          message: messageOf(diagnostic.messageText),
          code: String(diagnostic.code),
          startLineNumber: from.lineNumber,
          startColumn: from.column,
          endLineNumber: to.lineNumber,
          endColumn: to.column === from.column && to.lineNumber === from.lineNumber ? from.column + 1 : to.column,
        },
      ];
    });
    monaco.editor.setModelMarkers(model, OWNER, markers);
  };
  const schedule = (delay: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => void check().catch(() => undefined), delay);
  };
  const listener = model.onDidChangeContent(() => schedule(DELAY_MS));
  schedule(0);
  return {
    refresh: () => schedule(0),
    dispose() {
      disposed = true;
      clearTimeout(timer);
      listener.dispose();
      monaco.editor.setModelMarkers(model, OWNER, []);
      twin.dispose();
    },
  };
}
