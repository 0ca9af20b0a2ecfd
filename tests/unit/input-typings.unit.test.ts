// The editor's declarations: `input` typed from a run's input, checked by TypeScript with the
// editor's options (checkJs over a function body, ES2022 only) so what it flags is what Monaco flags.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CHECK_WRAPPERS, sandboxDeclarations, typeOfJson } from '../../renderer/src/editor/inspector/input-typings.js';

/** TypeScript's errors for a code field's body against the declarations, as the editor checks it. */
function problems(code: string, input?: { value: unknown }): string[] {
  const { before, after } = CHECK_WRAPPERS.function;
  const sources: Record<string, string> = {
    'sandbox.d.ts': sandboxDeclarations(input),
    'code.js': before + code + after,
  };
  const host = ts.createCompilerHost({});
  const original = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version) =>
    name in sources ? ts.createSourceFile(name, sources[name] ?? '', version) : original(name, version);
  const options = { allowJs: true, checkJs: true, lib: ['lib.es2022.d.ts'], types: [], noEmit: true };
  const program = ts.createProgram(['sandbox.d.ts', 'code.js'], options, host);
  // Both kinds, as Monaco asks for them (getPreEmitDiagnostics stops at the syntactic ones).
  const file = program.getSourceFile('code.js');
  return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(
    (diagnostic) => `${diagnostic.file?.fileName}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`,
  );
}

describe('typeOfJson', () => {
  it('primitives, objects, arrays and null', () => {
    expect(typeOfJson({ amount: 12.5, name: 'x', ok: true, note: null, tags: ['a'] })).toBe(
      '{ amount: number; name: string; ok: boolean; note: null; tags: string[]; }',
    );
    expect(typeOfJson([])).toBe('unknown[]');
    expect(typeOfJson({})).toBe('Record<string, unknown>');
    expect(typeOfJson({ 'odd key': 1 })).toBe('{ "odd key": number; }');
  });
  it('array items merged: fields missing from some are optional, mixed kinds a union', () => {
    expect(typeOfJson([{ a: 1 }, { a: 2, b: 'x' }])).toBe('Array<{ a: number; b?: string; }>');
    expect(typeOfJson([1, 'a', null])).toBe('Array<string | number | null>');
  });
  it('very deep values end in any', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20; i += 1) deep = { d: deep };
    expect(typeOfJson(deep)).toContain('any');
  });
});

describe('the declarations the editor checks against', () => {
  const input = { value: { amount: 42, lines: [{ sku: 'A', qty: 1 }] } };
  it('a misspelt field of the last input is a problem; the right one is not', () => {
    expect(problems('return input.amout;', input)).toEqual([
      expect.stringMatching(/^code\.js: Property 'amout' does not exist on type .*Did you mean 'amount'\?/),
    ]);
    expect(problems('return input.amount + input.lines[0].qty;', input)).toEqual([]);
  });
  it('with no run yet, input is any: nothing about it is flagged', () => {
    expect(problems('return input.whatever.you.like;')).toEqual([]);
  });
  it('the helpers and console are declared, misuse is flagged', () => {
    expect(
      problems('console.log($date.add($date.now(), "1d")); return $math.round($math.sum([1, 2]), 1);', input),
    ).toEqual([]);
    expect(problems('return $math.sum("12");', input)).toEqual([
      expect.stringMatching(/Argument of type 'string' is not assignable to parameter of type 'number\[\]'/),
    ]);
  });
  it('no browser or Node globals: the sandbox has none', () => {
    const found = problems('window.x; fetch("/"); require("fs"); process.exit(1); document.title;');
    expect(found, found.join('\n')).toHaveLength(5);
    // `require("fs")` is read as a CommonJS import of a module there is none of.
    for (const name of ['window', 'fetch', 'fs', 'process', 'document'])
      expect(
        found.some((message) => message.includes(`'${name}'`)),
        `${name} in ${found.join(' / ')}`,
      ).toBe(true);
  });
});
