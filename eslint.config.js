// One tool for lint and format: ESLint with typescript-eslint, @stylistic and import-x (pure JavaScript,
// so `npm ci` needs no platform binary that the registry mirror may lack: import-x stays at 4.6.1, the
// last release before its resolver became a native binding).
import stylistic from '@stylistic/eslint-plugin';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.tsbuildinfo'] },
  ...tseslint.configs.recommended,
  stylistic.configs.customize({ indent: 2, quotes: 'single', semi: true, arrowParens: true, braceStyle: '1tbs' }),
  {
    rules: {
      '@stylistic/max-len': ['error', { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreComments: true }],
      '@stylistic/operator-linebreak': ['error', 'before', { overrides: { '=': 'after' } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Hosts-file fixtures hold real tabs; indentation is the indent rule's business.
      '@stylistic/no-tabs': 'off',
    },
  },
  {
    // A cycle makes load order decide what is initialised; it also says two modules are one concept.
    // Type-only imports are not followed: they vanish at compile time.
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.mjs', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Our sources import './x.js' for './x.ts' (NodeNext): resolve as tsc does, or no import would be followed.
      'import-x/resolver-next': [
        importX.createNodeResolver({ extensions: ['.ts', '.mjs', '.js', '.json'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly', performance: 'readonly', setTimeout: 'readonly' } },
  },
  {
    // The status page's scripts run in the browser as written: no compiler catches a misspelt name there.
    files: ['packages/controller/ui/**/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly', window: 'readonly', location: 'readonly', history: 'readonly',
        sessionStorage: 'readonly', AbortSignal: 'readonly', AbortController: 'readonly', clearTimeout: 'readonly',
      },
    },
    rules: { 'no-undef': 'error' },
  },
);
