// One lint setup for the whole repository. Import boundaries between layers are rules here.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const layer = (files, regex, message) => ({
  files,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ regex, message }] }] },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] },
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
  // Node types see only the SDK (and the pure model): never the runtime, store or each other's internals.
  layer(['nodes/**/*.ts'], '/engine/(?!sdk/|model/)', 'nodes import only engine/sdk and engine/model'),
  // The model is pure and shared (the renderer will import it): no Node built-ins, no engine internals.
  layer(
    ['engine/model/**/*.ts'],
    '^(node:|\\.\\./)',
    'engine/model is pure: no Node built-ins, no other engine modules',
  ),
  // The engine reaches node types only through the registry (engine/runtime/engine.ts wires the built-ins).
  layer(
    ['engine/**/*.ts'],
    '/nodes/(?!index\\.js$)',
    'the engine reaches node types only through nodes/index.js and the registry',
  ),
  // The renderer and Electron main see the engine only through its API contract.
  layer(
    ['renderer/**/*.{ts,tsx}', 'electron/**/*.{ts,cts}'],
    '/engine/(?!api/)',
    'the renderer and electron import only engine/api from the engine',
  ),
  // Nothing imports the renderer or the desktop shell.
  layer(['engine/**/*.ts', 'nodes/**/*.ts', 'electron/**/*.{ts,cts}'], '/renderer/', 'nothing imports renderer/'),
  layer(['engine/**/*.ts', 'nodes/**/*.ts', 'renderer/**/*.{ts,tsx}'], '/electron/', 'nothing imports electron/'),
);
