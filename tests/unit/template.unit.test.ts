// The `{{ }}` template parser, the walk over a config and the rendering of evaluated parts.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configTemplates, parseTemplate, renderTemplate, withFieldValues } from '../../engine/model/template.js';
import { expressionSyntax } from '../../nodes/syntax.js';

const expr = (source: string, column: number) => ({ kind: 'expression', source, column });
const text = (value: string) => ({ kind: 'text', text: value });

describe('parseTemplate', () => {
  it('leaves a string without {{ alone', () => {
    expect(parseTemplate('plain } text {')).toBeNull();
  });

  it('finds one expression that is the whole field, with its column', () => {
    expect(parseTemplate('{{ input.id }}')).toEqual({ parts: [expr(' input.id ', 3)] });
  });

  it('splits text and several expressions', () => {
    expect(parseTemplate('/orders/{{ input.id }}/items/{{input.n}}')).toEqual({
      parts: [text('/orders/'), expr(' input.id ', 11), text('/items/'), expr('input.n', 32)],
    });
  });

  it('writes literal braces for \\{{ and keeps other backslashes', () => {
    expect(parseTemplate('a \\{{ b }} c')).toEqual({ parts: [text('a {{ b }} c')] });
    expect(parseTemplate('\\n \\{{x}} {{ 1 }}')).toEqual({ parts: [text('\\n {{x}} '), expr(' 1 ', 13)] });
  });

  it('does not end an expression at braces inside its strings, template literals or objects', () => {
    expect(parseTemplate('{{ "}}" + \'}}\' }}')).toEqual({ parts: [expr(' "}}" + \'}}\' ', 3)] });
    expect(parseTemplate('{{ `a${ {x: "}}"}.x }}` }}!')).toEqual({
      parts: [expr(' `a${ {x: "}}"}.x }}` ', 3), text('!')],
    });
    expect(parseTemplate('{{ {a: {b: 1}} }}')).toEqual({ parts: [expr(' {a: {b: 1}} ', 3)] });
    expect(parseTemplate('{{ {a: 1}}}')).toEqual({ parts: [expr(' {a: 1}', 3)] });
    expect(parseTemplate('{{ "a\\"}}" }}')).toEqual({ parts: [expr(' "a\\"}}" ', 3)] });
  });

  it('reports an unclosed or empty {{ with its column', () => {
    expect(parseTemplate('ab {{ input.x')).toEqual({ error: { message: 'unclosed {{ (no matching }})', column: 4 } });
    expect(parseTemplate('{{ "}} }}')).toEqual({ error: { message: 'unclosed {{ (no matching }})', column: 1 } });
    expect(parseTemplate('x{{  }}')).toEqual({ error: { message: 'empty {{ }}', column: 2 } });
  });
});

describe('renderTemplate', () => {
  const parts = (template: string) => {
    const parsed = parseTemplate(template);
    if (parsed === null || 'error' in parsed) throw new Error('not a template');
    return parsed.parts;
  };

  it('keeps the type of a field that is one expression', () => {
    expect(renderTemplate(parts('{{ x }}'), [{ a: [1] }])).toEqual({ a: [1] });
    expect(renderTemplate(parts('{{ x }}'), [42])).toBe(42);
    expect(renderTemplate(parts('{{ x }}'), [undefined])).toBeUndefined();
  });

  it('joins text: strings as they are, objects as JSON, undefined as nothing', () => {
    expect(renderTemplate(parts('id={{a}} o={{b}} n={{c}} u={{d}} z={{e}}'), ['x', { k: 1 }, null, undefined, 0])).toBe(
      'id=x o={"k":1} n=null u= z=0',
    );
    expect(renderTemplate(parts(' {{ x }}'), [5])).toBe(' 5');
  });
});

describe('configTemplates', () => {
  const schema = z.strictObject({
    url: z.string(),
    code: z.string().meta({ format: 'code' }),
    fields: z.array(z.strictObject({ label: z.string(), value: z.string().meta({ format: 'expression' }) })),
    auth: z.strictObject({ credential: z.string() }).meta({ format: 'credential-auth' }).optional(),
    headers: z.record(z.string(), z.string()),
    body: z.unknown(),
  });

  it('finds templates in nested strings, leaving code, expressions and credentials alone', () => {
    const found = configTemplates(schema, {
      url: 'http://x/{{ input.id }}',
      code: 'return `{{ input }}`',
      fields: [{ label: '{{ input.label }}', value: '{{ input.value }}' }],
      auth: { credential: '{{ input.secret }}' },
      headers: { 'X-Id': '{{ run.id }}' },
      body: { deep: ['{{ input.payload }}', 'plain'] },
    });
    expect(found.problems).toEqual([]);
    expect(found.fields.map((field) => field.path)).toEqual([
      ['url'],
      ['fields', 0, 'label'],
      ['headers', 'X-Id'],
      ['body', 'deep', 0],
    ]);
  });

  it('names the field of a malformed template', () => {
    const found = configTemplates(schema, { url: 'x', headers: { a: 'b {{ c' } });
    expect(found.problems).toEqual([
      { path: ['headers', 'a'], error: { message: 'unclosed {{ (no matching }})', column: 3 } },
    ]);
  });

  it('puts values in a copy of the config, leaving out undefined ones', () => {
    const config = { a: '{{ 1 }}', b: ['{{ 2 }}'], c: '{{ u }}', d: 'kept' };
    const { fields } = configTemplates(z.unknown(), config);
    expect(withFieldValues(config, fields, [1, 2, undefined])).toEqual({ a: 1, b: [2], d: 'kept' });
    expect(config.a).toBe('{{ 1 }}');
  });
});

describe('expressionSyntax', () => {
  it('finds where an expression does not compile', () => {
    expect(expressionSyntax('input.a + 1')).toBeNull();
    expect(expressionSyntax('input.a + * 2')).toMatchObject({
      offset: 10,
      message: expect.stringMatching(/Unexpected token/),
    });
    expect(expressionSyntax('input.a +\n  * 2')).toMatchObject({ offset: 12 });
    // An error past the expression (an unclosed bracket) is placed at its end.
    expect(expressionSyntax('f(1')).toMatchObject({ offset: 3 });
  });
});
