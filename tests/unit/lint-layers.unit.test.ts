// The import rules of eslint.config.js, checked from outside: small sources linted as if they lived at
// given paths. Every forbidden import must be reported by the layer rule and every allowed one must
// lint clean (no message at all), so the test cannot pass because the rule is off or a fixture does not
// parse. The spec below is written from the issue, not read from the config.
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const RULE = 'local/import-layers';

// ---- The spec -------------------------------------------------------------------------------------
const pure = ['model', 'waits', 'sdk', 'registry', 'validate', 'journal', 'orchestrator', 'replay', 'api'];
const engineImports: Record<string, string[]> = {
  model: [],
  waits: ['model'],
  sdk: ['model', 'waits'],
  registry: ['sdk', 'model'],
  validate: ['model', 'sdk', 'registry'],
  journal: ['model', 'sdk', 'waits'],
  orchestrator: ['model', 'sdk', 'waits', 'registry', 'validate', 'journal'],
  replay: ['model', 'sdk', 'waits', 'registry', 'validate', 'journal', 'orchestrator'],
  store: ['model', 'journal', 'waits', 'sdk'],
  sandbox: ['sdk', 'model'],
  runtime: ['model', 'waits', 'sdk', 'registry', 'validate', 'journal', 'orchestrator', 'store', 'sandbox', 'replay'],
  api: ['model', 'journal', 'waits', 'sdk'],
  host: ['api', 'runtime', 'model', 'journal', 'waits', 'validate'],
  cli: ['runtime', 'host', 'replay', 'validate', 'model', 'journal', 'waits', 'api'],
};
const engineLayers = Object.keys(engineImports);

// Targets are files; sources are fixture files at virtual paths (each in one layer).
const targets = [
  ...engineLayers.map((layer) => `engine/${layer}/index.js`),
  'nodes/index.js', // the wiring of the built-in node types
  'nodes/syntax.js', // a helper shared by node folders
  'nodes/merge/index.js',
  'nodes/branch-if/index.js',
  'renderer/src/main.js',
  'electron/main.js',
  'tests/support/harness.js',
];
const sdkAndModel = ['engine/sdk/index.js', 'engine/model/index.js'];
const sources: Record<string, string[] | 'any'> = {
  ...Object.fromEntries(
    engineLayers.map((layer) => [
      `engine/${layer}/lint-fixture.ts`,
      [
        `engine/${layer}/index.js`,
        ...engineImports[layer]!.map((to) => `engine/${to}/index.js`),
        ...(layer === 'runtime' ? ['nodes/index.js'] : []),
      ],
    ]),
  ),
  'nodes/index.ts': [
    ...sdkAndModel,
    'nodes/index.js',
    'nodes/syntax.js',
    'nodes/merge/index.js',
    'nodes/branch-if/index.js',
  ],
  'nodes/lint-fixture.ts': [...sdkAndModel, 'nodes/syntax.js'],
  'nodes/merge/lint-fixture.ts': [...sdkAndModel, 'nodes/syntax.js', 'nodes/merge/index.js'],
  'renderer/src/lint-fixture.tsx': ['engine/api/index.js', 'renderer/src/main.js'],
  'electron/lint-fixture.ts': ['engine/api/index.js', 'electron/main.js'],
  'tests/unit/lint-fixture.ts': 'any',
};

const builtins = ['node:fs', 'fs', 'fs/promises', 'path', 'node:path', 'os', 'crypto', 'child_process'];
const moreBuiltins = ['worker_threads', 'http', 'net', 'node:test', 'node:worker_threads'];
const nativePackages = ['better-sqlite3', 'quickjs-emscripten', 'ws', 'better-sqlite3/lib/database.js'];
const bare = [...builtins, ...moreBuiltins, ...nativePackages];

// ---- Linting text at a path -----------------------------------------------------------------------
let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({
    cwd: root,
    overrideConfigFile: path.join(root, 'eslint.config.js'),
    // The fixtures are text at paths no tsconfig includes: lint them without type information (the
    // type-aware rules need a program; the layer rule does not).
    overrideConfig: tseslint.configs.disableTypeChecked as Linter.Config,
  });
});

async function lint(file: string, text: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(text, { filePath: path.join(root, file), warnIgnored: true });
  return result!.messages;
}

function specifier(from: string, to: string): string {
  const relative = path
    .relative(path.dirname(path.join(root, from)), path.join(root, to))
    .split(path.sep)
    .join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

const layerErrors = (messages: Linter.LintMessage[]) => messages.filter((message) => message.ruleId === RULE);

async function expectForbidden(file: string, text: string): Promise<void> {
  const messages = await lint(file, text);
  expect(messages.filter((message) => message.fatal)).toEqual([]);
  expect(layerErrors(messages), `${file}:\n${text}`).toHaveLength(1);
}

async function expectAllowed(file: string, text: string): Promise<void> {
  expect(await lint(file, text), `${file}:\n${text}`).toEqual([]);
}

// ---- Cases ----------------------------------------------------------------------------------------
const relativeCases = Object.entries(sources).flatMap(([from, allowed]) =>
  targets.map((to) => ({ from, to, allowed: allowed === 'any' || allowed.includes(to) })),
);
const bareCases = engineLayers.flatMap((layer) =>
  [...bare, 'zod'].map((name) => ({
    from: `engine/${layer}/lint-fixture.ts`,
    name,
    allowed: name === 'zod' || !pure.includes(layer),
  })),
);

describe('import layers (eslint.config.js)', () => {
  it.each(relativeCases)('$from → $to: allowed $allowed', async ({ from, to, allowed }) => {
    const text = `import '${specifier(from, to)}';\n`;
    await (allowed ? expectAllowed(from, text) : expectForbidden(from, text));
  });

  it.each(bareCases)('$from → "$name": allowed $allowed', async ({ from, name, allowed }) => {
    const text = `import '${name}';\n`;
    await (allowed ? expectAllowed(from, text) : expectForbidden(from, text));
  });

  // The cases the issue names, spelled as the code spells them.
  it.each([
    ['engine/model/workflow.ts', "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n"],
    ['engine/model/workflow.ts', "export { Engine } from '../runtime/engine.js';\n"],
    ['engine/orchestrator/decide.ts', "import fs from 'fs';\nexport const read = fs.readFileSync;\n"],
    ['engine/journal/events.ts', "import path from 'path';\nexport const join = path.join;\n"],
    ['renderer/src/editor/Editor.tsx', "export * from '../../../engine/store/journal-store.js';\n"],
    [
      'nodes/merge/index.ts',
      "import { type Engine } from '../../engine/runtime/engine.js';\nexport type E = Engine;\n",
    ],
    ['nodes/merge/index.ts', "export { branchIf } from '../branch-if/index.js';\n"],
    [
      'engine/host/service.ts',
      "import type { JournalStore } from '../store/journal-store.js';\nexport type J = JournalStore;\n",
    ],
    ['engine/api/index.ts', "export const load = () => import('../store/database.js');\n"],
    ['engine/api/index.ts', 'export const load = () => import(`../runtime/engine.js`);\n'],
    ['engine/sdk/index.ts', "export type Store = typeof import('../store/database.js');\n"],
    ['electron/preload.cts', "import store = require('../engine/store/database.js');\nexport = store;\n"],
    ['electron/preload.cts', "const store: unknown = require('../engine/store/database.js');\nexport = store;\n"],
    ['electron/main.ts', "export * from '../renderer/src/main.js';\n"],
    ['engine/runtime/engine.ts', "export * from '../../nodes/merge/index.js';\n"],
    ['engine/api/index.ts', "export * from '../../package.json';\n"], // outside every layer
    ['engine/queue/index.ts', 'export {};\n'], // an engine folder missing from the table
  ])('forbidden: %s: %s', async (file, text) => {
    await expectForbidden(file, text);
  });

  it.each([
    ['engine/host/service.ts', "import { type Engine } from '../runtime/engine.js';\nexport type E = Engine;\n"],
    ['engine/api/index.ts', "export const load = () => import('../model/workflow.js');\n"],
    ['engine/api/index.ts', 'export const load = () => import(`../model/workflow.js`);\n'],
    [
      'electron/preload.cts',
      "// eslint-disable-next-line @typescript-eslint/no-require-imports\nimport api = require('../engine/api/index.js');\nexport = api;\n",
    ],
    ['nodes/code/index.ts', "export { checkSyntax } from '../syntax.js';\nexport * from './helpers.js';\n"],
    ['engine/store/database.ts', "import Database from 'better-sqlite3';\nexport const open = Database;\n"],
    ['tests/int/x.int.test.ts', "export * from '../../engine/store/database.js';\n"],
    ['bin/tool.js', "export * from '../engine/store/database.js';\n"], // outside the layered folders
  ])('allowed: %s: %s', async (file, text) => {
    await expectAllowed(file, text);
  });
});
