// The ESLint rule `local/import-layers`: which layer may import which. The table of layers is in
// eslint.config.js; this file maps each import to a layer (by resolving the path) and looks it up.
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * The layer a repository path belongs to, or null outside the layered folders (bin/, root files).
 * `name` tells two node folders apart; `key` is the row of the table that governs it.
 * @param {string} relative  path from the repository root, `/`-separated
 * @returns {{ name: string, key: string } | null}
 */
function layerOf(relative) {
  const [top, second, ...rest] = relative.split('/');
  if (top === 'engine' && second !== undefined) return same(`engine/${second}`);
  if (top === 'nodes' && second !== undefined) {
    if (rest.length > 0) return { name: `nodes/${second}`, key: 'nodes/<node>' };
    // Files directly in nodes/: index.ts wires the node types; the others are shared helpers.
    return same(second.replace(/\.[cm]?[jt]sx?$/, '') === 'index' ? 'nodes/index' : 'nodes/shared');
  }
  if (top === 'renderer' || top === 'electron' || top === 'tests') return same(top);
  return null;
}

const same = (name) => ({ name, key: name });

/** The layer of an absolute path; null outside the repository or outside the layered folders. */
function layerAt(root, absolute) {
  const relative = path.relative(root, absolute);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return null;
  return layerOf(relative.split(path.sep).join('/'));
}

const isBuiltin = (specifier) =>
  specifier.startsWith('node:') ||
  builtinModules.includes(specifier) ||
  builtinModules.includes(specifier.split('/')[0]);

const isPackage = (specifier, packages) =>
  packages.some((name) => specifier === name || specifier.startsWith(`${name}/`));

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: { description: 'Each layer imports only the layers the table in eslint.config.js lists for it.' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          nativePackages: { type: 'array', items: { type: 'string' } },
          layers: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: {
                pure: { type: 'boolean' },
                imports: { oneOf: [{ const: 'any' }, { type: 'array', items: { type: 'string' } }] },
              },
              required: ['imports'],
              additionalProperties: false,
            },
          },
        },
        required: ['root', 'nativePackages', 'layers'],
        additionalProperties: false,
      },
    ],
    messages: {
      undeclared: '{{from}} is not a layer: add it to the layer table in eslint.config.js.',
      layer: '{{from}} may not import {{to}} ("{{specifier}}"): {{from}} imports only {{allowed}}.',
      outside: '{{from}} may not import "{{specifier}}": it is outside every layer.',
      builtin: '{{from}} is pure: no Node built-ins ("{{specifier}}").',
      native: '{{from}} is pure: no native or IO packages ("{{specifier}}").',
    },
  },

  create(context) {
    const { root, layers, nativePackages } = context.options[0];
    const from = layerAt(root, context.filename);
    if (from === null) return {};
    const rule = layers[from.key];
    if (rule === undefined) {
      return { Program: (node) => context.report({ node, messageId: 'undeclared', data: { from: from.name } }) };
    }
    if (rule.imports === 'any') return {};

    const check = (node, specifier) => {
      if (typeof specifier !== 'string') return; // a computed import() cannot be checked statically
      const data = { from: from.name, specifier };
      if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
        if (rule.pure && isBuiltin(specifier)) context.report({ node, messageId: 'builtin', data });
        else if (rule.pure && isPackage(specifier, nativePackages)) context.report({ node, messageId: 'native', data });
        return;
      }
      // Resolve against the importing file's folder; a bundler query (`?worker`) is not part of the path.
      const target = path.resolve(path.dirname(context.filename), specifier.replace(/\?.*$/, ''));
      const to = layerAt(root, target);
      if (to === null) return context.report({ node, messageId: 'outside', data });
      if (to.name === from.name || rule.imports.includes(to.key)) return;
      const allowed = rule.imports.length > 0 ? rule.imports.join(', ') : 'itself';
      context.report({ node, messageId: 'layer', data: { ...data, to: to.name, allowed } });
    };

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ImportExpression: (node) => check(node.source, staticString(node.source)),
      // `import x = require('…')` (CommonJS .cts) and `typeof import('…')` in a type.
      TSExternalModuleReference: (node) => check(node.expression, node.expression.value),
      TSImportType: (node) => {
        const source = node.source ?? node.argument?.literal;
        if (source) check(source, source.value);
      },
      'CallExpression[callee.type="Identifier"][callee.name="require"]': (node) =>
        node.arguments.length === 1 && check(node.arguments[0], staticString(node.arguments[0])),
    };
  },
};

/** The value of a string literal or a template literal without expressions; otherwise undefined. */
function staticString(node) {
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked;
  return undefined;
}
