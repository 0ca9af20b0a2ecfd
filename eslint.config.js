// One lint setup for the whole repository. Import boundaries between layers are rules here.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';
import importLayers from './lint/import-layers.js';

// Which layers each layer may import, besides itself. An import is resolved against the importing
// file's folder and mapped to a layer (lint/import-layers.js); a layer not listed is an error, and so is
// a file in an engine/ folder missing from this table. Pure layers also import no Node built-ins
// (`node:fs` or bare `fs`) and none of `nativePackages`. Files outside these folders are not checked.
const nativePackages = ['better-sqlite3', 'quickjs-emscripten', 'ws'];
const layers = {
  'engine/model': { pure: true, imports: [] },
  'engine/waits': { pure: true, imports: ['engine/model'] },
  'engine/sdk': { pure: true, imports: ['engine/model', 'engine/waits'] },
  'engine/registry': { pure: true, imports: ['engine/sdk', 'engine/model'] },
  'engine/validate': { pure: true, imports: ['engine/model', 'engine/sdk', 'engine/registry'] },
  'engine/journal': { pure: true, imports: ['engine/model', 'engine/sdk', 'engine/waits'] },
  'engine/orchestrator': {
    pure: true,
    imports: ['engine/model', 'engine/sdk', 'engine/waits', 'engine/registry', 'engine/validate', 'engine/journal'],
  },
  'engine/replay': {
    pure: true,
    imports: [
      'engine/model',
      'engine/sdk',
      'engine/waits',
      'engine/registry',
      'engine/validate',
      'engine/journal',
      'engine/orchestrator',
    ],
  },
  // The store is SQLite: Node built-ins and better-sqlite3 are its job.
  'engine/store': { imports: ['engine/model', 'engine/journal', 'engine/waits', 'engine/sdk'] },
  'engine/sandbox': { imports: ['engine/sdk', 'engine/model'] },
  // The built-in mock service templates call: a plain HTTP server, knowing nothing of the engine.
  'engine/mock-service': { imports: [] },
  // Secrets: files, the environment and redaction. Values never cross into a pure layer.
  'engine/credentials': { imports: [] },
  // The only layer that sees the store, and the only place the built-in node types are wired.
  'engine/runtime': {
    imports: [
      'engine/model',
      'engine/waits',
      'engine/sdk',
      'engine/registry',
      'engine/validate',
      'engine/journal',
      'engine/orchestrator',
      'engine/store',
      'engine/sandbox',
      'engine/replay',
      'engine/credentials',
      'nodes/index',
    ],
  },
  // The contract shared with the renderer: types and schemas only.
  'engine/api': { pure: true, imports: ['engine/model', 'engine/journal', 'engine/waits', 'engine/sdk'] },
  'engine/host': {
    imports: [
      'engine/mock-service',
      'engine/api',
      'engine/runtime',
      'engine/model',
      'engine/journal',
      'engine/waits',
      'engine/validate',
      'engine/credentials',
    ],
  },
  'engine/cli': {
    imports: [
      'engine/mock-service',
      'engine/runtime',
      'engine/host',
      'engine/replay',
      'engine/validate',
      'engine/model',
      'engine/journal',
      'engine/waits',
      'engine/api',
      'engine/credentials',
    ],
  },
  // nodes/index.ts wires every node folder; nodes/*.ts besides it are helpers shared by node folders.
  'nodes/index': { imports: ['engine/sdk', 'engine/model', 'nodes/shared', 'nodes/<node>'] },
  'nodes/shared': { imports: ['engine/sdk', 'engine/model'] },
  // A node folder (nodes/<node>/…) imports its own folder, never another node's.
  'nodes/<node>': { imports: ['engine/sdk', 'engine/model', 'nodes/shared'] },
  renderer: { imports: ['engine/api'] },
  electron: { imports: ['engine/api'] },
  tests: { imports: 'any' },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'lint/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      eqeqeq: ['error', 'always'],
      'no-implied-eval': 'error',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs['recommended-latest'].rules },
  },
  // Vitest's asymmetric matchers (expect.objectContaining, …) are typed `any`.
  { files: ['tests/**/*.ts'], rules: { '@typescript-eslint/no-unsafe-assignment': 'off' } },
  // Import boundaries: one rule, one table (above), so every file gets exactly one set of options.
  {
    plugins: { local: { rules: { 'import-layers': importLayers } } },
    rules: { 'local/import-layers': ['error', { root: import.meta.dirname, layers, nativePackages }] },
  },
);
