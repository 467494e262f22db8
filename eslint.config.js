// ESLint flat config: typescript-eslint's recommended rules over every TypeScript file.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'native/build/**', 'web/vendor/**'] },
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
