// Lint rules: typescript-eslint's recommended set, no `any`, and import boundaries
// (the client and the protocol never reach into the server, engine or CLI).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const serverOnly = ['**/server/**', '**/engine/**', '**/cli/**', 'ws', 'sharp', 'undici', 'ipaddr.js', 'node:*'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', 'ws', 'sharp', 'undici', 'ipaddr.js', 'node:*', 'isomorphic-ws'], message: 'src/protocol is pure: it imports nothing of ours outside itself and no I/O.' }] },
      ],
    },
  },
  {
    files: ['src/client/**/*.ts', 'src/browser.ts'],
    ignores: ['src/client/websocket-node.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: serverOnly, message: 'The client must stay browser-safe: no server, engine, CLI, ws or Node built-ins.' }] },
      ],
    },
  },
);
