// One tool for lint and format: ESLint with typescript-eslint and @stylistic (pure JavaScript,
// so `npm ci` needs no platform binary that the registry mirror may lack).
import stylistic from '@stylistic/eslint-plugin';
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
