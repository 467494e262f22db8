// ESLint flat config: typescript-eslint's recommended rules over every TypeScript file, plus the
// rules that keep the house's shape (../shared/STYLE.md, docs/architecture.md "Layout"):
// per-folder import boundaries (eslint-plugin-import-x) and no import cycles, type-only imports
// included (eslint/no-import-cycle.js). test/lint/ proves each of them bites.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import parleyImports from './eslint/no-import-cycle.js';

/**
 * Which folder may not import which: the protocol core imports nothing above it; contracts sit
 * on the core and common; relay and transceiver meet only through contracts (never import each other);
 * the client imports neither process; common is below every process.
 */
const zone = (target, from, message) => ({ target, from, message });
const BOUNDARIES = [
  zone('./src/core', ['./src/contracts', './src/common', './src/relay', './src/transceiver', './src/client', './src/cli', './src/media'],
    'src/core is the sans-IO protocol core: it imports nothing above it'),
  zone('./src/contracts', ['./src/relay', './src/transceiver', './src/client', './src/cli', './src/media'],
    'src/contracts holds what processes agree on; it builds on src/core and src/common only'),
  zone('./src/common', ['./src/contracts', './src/relay', './src/transceiver', './src/client', './src/cli'],
    'src/common is shared by every process and imports none of them, nor the contracts between them'),
  zone('./src/media', ['./src/relay', './src/transceiver', './src/client', './src/cli'],
    'src/media (Opus, WAV, analysis) imports no process'),
  zone('./src/relay', ['./src/transceiver', './src/client'],
    'the relay and the transceiver meet only on the wire: share definitions through src/contracts'),
  zone('./src/transceiver', ['./src/relay', './src/client'],
    'the relay and the transceiver meet only on the wire: share definitions through src/contracts'),
  zone('./src/client', ['./src/relay', './src/transceiver'],
    'the client is a WebRTC peer like any other: it imports neither process (shared code belongs in src/core or src/common)'),
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'native/build/**', 'web/vendor/**', 'test/lint/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', clearImmediate: 'readonly', queueMicrotask: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/**/*.ts', 'bin/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } }, 'import-x/extensions': ['.ts', '.js'] },
    rules: { 'import-x/no-restricted-paths': ['error', { zones: BOUNDARIES }] },
  },
  {
    files: ['**/*.ts'],
    plugins: { parley: parleyImports },
    rules: { 'parley/no-import-cycle': 'error' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      // STYLE.md rule 1: the protocol core is sans-IO.
      'no-restricted-imports': ['error', { paths: ['node:dgram', 'node:net', 'node:http', 'node:https', 'node:timers', 'node:fs'] }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'src/core is sans-IO: take `now` as a parameter.' },
        { object: 'Math', property: 'random', message: 'src/core is sans-IO: take randomness from the injected provider.' },
        { object: 'performance', property: 'now', message: 'src/core is sans-IO: take `now` as a parameter.' },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate'],
    },
  },
);
